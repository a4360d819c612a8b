// A small reader of an ELF64 shared object's dynamic symbols, for images laid out as the loader
// maps them (the vDSO file image, or a vDSO already mapped in this process): symbol lookup
// through DT_HASH or DT_GNU_HASH, with symbol versions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vdso {

struct DynamicSymbol {
  std::string name;
  std::string version;  // "" if unversioned
  uint64_t value = 0;   // address relative to the image's load base
  uint64_t size = 0;
  uint8_t type = 0;     // STT_*
  uint8_t binding = 0;  // STB_*
  uint8_t visibility = 0;
  uint16_t section = 0;  // st_shndx
  bool hidden_version = false;
};

class DynamicSymbols {
 public:
  // Parses the dynamic section of `image`; addresses in it are translated through the PT_LOAD
  // headers. nullopt (and *why) if anything needed is missing or out of bounds.
  static std::optional<DynamicSymbols> parse(std::span<const uint8_t> image, std::string* why);

  // The bytes of an ELF image already mapped in this process at `ehdr` (such as the host's own
  // vDSO from getauxval(AT_SYSINFO_EHDR)): its ELF header up to the end of its last PT_LOAD.
  static std::span<const uint8_t> mapped_image(const void* ehdr);

  // The defined symbol `name` at `version` ("" accepts any), via DT_GNU_HASH if present, else
  // DT_HASH. Returns its value relative to the load base.
  std::optional<uint64_t> lookup(std::string_view name, std::string_view version) const;
  // Where that symbol's st_value lies in the image (a file offset), for a loader-style patch.
  std::optional<uint64_t> value_offset(std::string_view name, std::string_view version) const;
  // Lookup through one specific table; nullopt if that table is absent or lacks the symbol.
  std::optional<uint32_t> index_via_sysv_hash(std::string_view name) const;
  std::optional<uint32_t> index_via_gnu_hash(std::string_view name) const;

  // Every entry of .dynsym except index 0.
  const std::vector<DynamicSymbol>& symbols() const { return symbols_; }
  std::optional<std::string> soname() const { return soname_; }
  bool has_sysv_hash() const { return sysv_hash_ != 0; }
  bool has_gnu_hash() const { return gnu_hash_ != 0; }

  static uint32_t sysv_hash(std::string_view name);
  static uint32_t gnu_hash(std::string_view name);

 private:
  std::optional<uint32_t> find(std::string_view name, std::string_view version) const;

  std::span<const uint8_t> image_;
  uint64_t symtab_ = 0;  // file offsets
  uint64_t strtab_ = 0;
  uint64_t strsz_ = 0;
  uint64_t sysv_hash_ = 0;
  uint64_t gnu_hash_ = 0;
  uint32_t nsyms_ = 0;
  std::optional<std::string> soname_;
  std::vector<DynamicSymbol> symbols_;  // symbols_[i] is .dynsym entry i + 1

  bool matches(uint32_t index, std::string_view name) const;
};

}  // namespace vdso
