// One ELF file mapped read-only: its sections, segments, dynamic facts and the views of its
// code and data the static scanner reads. Only x86-64 executables and shared objects.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vsyscall/static_scan.h"

namespace scan {

// A read-only private mapping of a whole file; unmapped on destruction.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

enum class OpenResult { kElf, kNotElf, kError };

// Opens `path`; kNotElf (quickly, from the first 64 bytes) for anything but a 64-bit x86-64
// ET_EXEC/ET_DYN file; kError with *error = "strerror" when the file cannot be read.
OpenResult map_elf(const std::string& path, MappedFile* out, std::string* error);

struct Section {
  std::string_view name;
  uint32_t type = 0;
  uint64_t flags = 0;
  uint64_t addr = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint64_t entsize = 0;
};

// The parts of an ELF64 file the scanner needs. Every offset is checked against the file.
class ElfImage {
 public:
  explicit ElfImage(std::span<const uint8_t> file);

  std::span<const uint8_t> file() const { return file_; }
  const std::vector<Section>& sections() const { return sections_; }
  const Section* section(std::string_view name) const;
  std::span<const uint8_t> contents(const Section& s) const;

  // Executable sections as code, other loaded sections with contents as data (from the
  // program headers when there are no section headers).
  vsyscall::ImageView image_view() const;

  // The bytes at virtual address `vaddr` (up to `size`), or an empty span.
  std::span<const uint8_t> at_vaddr(uint64_t vaddr, uint64_t size) const;

  std::string interpreter() const;
  std::string soname() const;
  std::vector<std::string> needed() const;
  // The names of the versions it needs from each library: "GLIBC_2.14", ...
  std::vector<std::string> version_needs() const;
  // The value of a .symtab (else .dynsym) symbol, nullopt if absent.
  std::optional<uint64_t> symbol_value(std::string_view name) const;

 private:
  struct Segment {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz;
  };
  std::string_view string_at(const Section& strtab, uint64_t off) const;
  std::vector<std::pair<int64_t, uint64_t>> dynamic_entries() const;
  std::string dynamic_string(uint64_t off) const;

  std::span<const uint8_t> file_;
  std::vector<Section> sections_;
  std::vector<Segment> segments_;
};

}  // namespace scan
