// A small strict JSON parser (RFC 8259 syntax) for checking vdsorun's -o report.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace integration {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> items;   // array elements, or object values
  std::vector<std::string> keys;  // object keys, parallel to items

  // The value of `key` in an object, or nullptr.
  const JsonValue* get(const std::string& key) const;
};

// The parsed document, or nullopt with *error set (position and reason).
std::optional<JsonValue> parse_json(const std::string& text, std::string* error);

}  // namespace integration
