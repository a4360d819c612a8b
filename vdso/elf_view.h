// Bounds-checked reads of ELF64 structures out of a byte span (host side only).
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vdso::elf {

template <typename T>
std::optional<T> read(std::span<const uint8_t> bytes, uint64_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// A NUL-terminated string at `offset` within [begin, begin + size) of `bytes`.
std::optional<std::string> read_string(std::span<const uint8_t> bytes, uint64_t begin,
                                       uint64_t size, uint64_t offset);

// The ELF header, if `bytes` starts with an x86-64 little-endian ELF64 header.
std::optional<Elf64_Ehdr> header(std::span<const uint8_t> bytes, std::string* why);
std::optional<std::vector<Elf64_Phdr>> program_headers(std::span<const uint8_t> bytes,
                                                       const Elf64_Ehdr& eh, std::string* why);
// Section headers; an empty vector if the image has none.
std::optional<std::vector<Elf64_Shdr>> section_headers(std::span<const uint8_t> bytes,
                                                       const Elf64_Ehdr& eh, std::string* why);

// The file offset of virtual address `vaddr` (and `size` bytes after it) through PT_LOAD.
std::optional<uint64_t> offset_of(const std::vector<Elf64_Phdr>& phdrs, uint64_t vaddr,
                                  uint64_t size);

}  // namespace vdso::elf
