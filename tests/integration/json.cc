// A small strict JSON parser (RFC 8259 syntax) for checking vdsorun's -o report.
#include "json.h"

#include <cctype>
#include <cstdlib>
#include <cstring>

namespace integration {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& t) : t_(t) {}

  std::optional<JsonValue> document() {
    JsonValue v;
    if (!value(v, 0)) return std::nullopt;
    space();
    if (i_ != t_.size()) return fail("trailing characters");
    return v;
  }

  std::string error() const { return error_; }

 private:
  std::optional<JsonValue> fail(const char* why) {
    if (error_.empty()) error_ = "at offset " + std::to_string(i_) + ": " + why;
    return std::nullopt;
  }
  bool bad(const char* why) {
    fail(why);
    return false;
  }

  void space() {
    while (i_ < t_.size() && std::strchr(" \t\r\n", t_[i_]) != nullptr) ++i_;
  }

  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (t_.compare(i_, n, word) != 0) return bad("bad literal");
    i_ += n;
    return true;
  }

  bool string(std::string& out) {
    if (t_[i_] != '"') return bad("expected string");
    ++i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      unsigned char ch = static_cast<unsigned char>(t_[i_]);
      if (ch < 0x20) return bad("control character in string");
      if (ch == '\\') {
        if (++i_ >= t_.size()) return bad("unterminated escape");
        char e = t_[i_];
        if (e == 'u') {
          if (i_ + 4 >= t_.size()) return bad("short \\u escape");
          for (int k = 1; k <= 4; ++k) {
            if (!std::isxdigit(static_cast<unsigned char>(t_[i_ + k]))) return bad("bad \\u");
          }
          out += '?';  // the tests never look at escaped code points
          i_ += 4;
        } else if (std::strchr("\"\\/bfnrt", e) != nullptr) {
          static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
          out += to[std::strchr(from, e) - from];
        } else {
          return bad("bad escape");
        }
        ++i_;
      } else {
        out += t_[i_++];
      }
    }
    if (i_ >= t_.size()) return bad("unterminated string");
    ++i_;
    return true;
  }

  bool number(double& out) {
    size_t start = i_;
    if (t_[i_] == '-') ++i_;
    if (i_ >= t_.size() || !std::isdigit(static_cast<unsigned char>(t_[i_]))) {
      return bad("bad number");
    }
    if (t_[i_] == '0' && i_ + 1 < t_.size() &&
        std::isdigit(static_cast<unsigned char>(t_[i_ + 1]))) {
      return bad("leading zero");
    }
    while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (i_ >= t_.size() || !std::isdigit(static_cast<unsigned char>(t_[i_]))) {
        return bad("bad fraction");
      }
      while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (i_ >= t_.size() || !std::isdigit(static_cast<unsigned char>(t_[i_]))) {
        return bad("bad exponent");
      }
      while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    out = std::strtod(t_.substr(start, i_ - start).c_str(), nullptr);
    return true;
  }

  bool value(JsonValue& v, int depth) {
    if (depth > 64) return bad("nested too deep");
    space();
    if (i_ >= t_.size()) return bad("unexpected end");
    char ch = t_[i_];
    if (ch == '{') {
      v.type = JsonValue::Type::kObject;
      ++i_;
      space();
      if (i_ < t_.size() && t_[i_] == '}') return ++i_, true;
      for (;;) {
        space();
        if (i_ >= t_.size()) return bad("unexpected end in object");
        std::string key;
        if (!string(key)) return false;
        space();
        if (i_ >= t_.size() || t_[i_] != ':') return bad("expected ':'");
        ++i_;
        JsonValue item;
        if (!value(item, depth + 1)) return false;
        v.keys.push_back(std::move(key));
        v.items.push_back(std::move(item));
        space();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == '}') return ++i_, true;
        return bad("expected ',' or '}'");
      }
    }
    if (ch == '[') {
      v.type = JsonValue::Type::kArray;
      ++i_;
      space();
      if (i_ < t_.size() && t_[i_] == ']') return ++i_, true;
      for (;;) {
        JsonValue item;
        if (!value(item, depth + 1)) return false;
        v.items.push_back(std::move(item));
        space();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == ']') return ++i_, true;
        return bad("expected ',' or ']'");
      }
    }
    if (ch == '"') {
      v.type = JsonValue::Type::kString;
      return string(v.string);
    }
    if (ch == 't') return v.type = JsonValue::Type::kBool, v.boolean = true, literal("true");
    if (ch == 'f') return v.type = JsonValue::Type::kBool, literal("false");
    if (ch == 'n') return v.type = JsonValue::Type::kNull, literal("null");
    v.type = JsonValue::Type::kNumber;
    return number(v.number);
  }

  const std::string& t_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace

const JsonValue* JsonValue::get(const std::string& key) const {
  if (type != Type::kObject) return nullptr;
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k] == key) return &items[k];
  }
  return nullptr;
}

std::optional<JsonValue> parse_json(const std::string& text, std::string* error) {
  Parser p(text);
  std::optional<JsonValue> v = p.document();
  if (!v && error != nullptr) *error = p.error();
  return v;
}

}  // namespace integration
