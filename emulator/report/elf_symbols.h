// Nearest ELF symbol for a file offset in a module, for the report's call sites.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

struct SymbolHit {
  std::string name;
  uint64_t offset_in_symbol;
};

class ElfSymbols {
 public:
  // Loads .symtab (or .dynsym) and the PT_LOAD table; nullopt if not a readable ELF64 file.
  static std::optional<ElfSymbols> load(const std::string& path);
  // The same from the file's bytes (the fuzz target feeds it arbitrary ones).
  static std::optional<ElfSymbols> parse(const std::string& img);
  // The function containing (or nearest before) the given file offset.
  std::optional<SymbolHit> lookup_file_offset(uint64_t file_offset) const;

 private:
  struct Sym {
    uint64_t value;
    uint64_t size;
    std::string name;
  };
  struct Load {
    uint64_t offset, vaddr, filesz;
  };
  std::vector<Sym> syms_;  // sorted by value
  std::vector<Load> loads_;
};

}  // namespace emulator
