// Reads ELF64 symbol tables with <elf.h> structures; bounds-checked against the file size
// because the file is the program's, not ours, and may be anything.
#include "emulator/report/elf_symbols.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "emulator/trace/maps.h"

namespace emulator {
namespace {

// base + add as a file offset; nullopt if the sum wraps (hostile headers make it).
std::optional<uint64_t> offset(uint64_t base, uint64_t add) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(base, add, &sum)) return std::nullopt;
  return sum;
}

template <typename T>
bool get(const std::string& img, uint64_t off, T& out) {
  if (off > img.size() || sizeof(T) > img.size() - off) return false;
  std::memcpy(&out, img.data() + off, sizeof(T));
  return true;
}

}  // namespace

std::optional<ElfSymbols> ElfSymbols::load(const std::string& path) {
  auto data = read_text_file(path);
  if (!data) return std::nullopt;
  return parse(*data);
}

std::optional<ElfSymbols> ElfSymbols::parse(const std::string& img) {
  Elf64_Ehdr eh;
  if (!get(img, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64)
    return std::nullopt;
  ElfSymbols out;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!get(img, eh.e_phoff + uint64_t{i} * eh.e_phentsize, ph)) break;
    if (ph.p_type == PT_LOAD) out.loads_.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz});
  }
  std::vector<Elf64_Shdr> shdrs;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    if (!get(img, eh.e_shoff + uint64_t{i} * eh.e_shentsize, sh)) break;
    shdrs.push_back(sh);
  }
  for (uint32_t want : {SHT_SYMTAB, SHT_DYNSYM}) {
    // An ELF file has at most one section of each type (gABI); only the first is read, so that
    // 65535 headers naming the same table cost one pass over it, not 65535 (a hostile file
    // made the fuzz target take seconds per input).
    const auto table = std::find_if(shdrs.begin(), shdrs.end(),
                                    [want](const Elf64_Shdr& s) { return s.sh_type == want; });
    if (table != shdrs.end()) {
      const Elf64_Shdr& sh = *table;
      if (sh.sh_link >= shdrs.size() || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
      const Elf64_Shdr& strtab = shdrs[sh.sh_link];
      for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
        Elf64_Sym s;
        const auto sym_at = offset(sh.sh_offset, off);
        if (!sym_at || !get(img, *sym_at, s)) break;
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0) continue;
        // The name must lie in the string table and in the file. (A wrapping sum used to
        // point the name at the wrong bytes through an overflowing pointer: found by
        // fuzz/elf_symbols_fuzzer.cc under UBSan.)
        const auto name_at = offset(strtab.sh_offset, s.st_name);
        if (s.st_name >= strtab.sh_size || !name_at || *name_at >= img.size()) continue;
        const char* name = img.data() + *name_at;
        size_t max = img.size() - *name_at;
        out.syms_.push_back({s.st_value, s.st_size, std::string(name, strnlen(name, max))});
      }
    }
    if (!out.syms_.empty()) break;
  }
  std::sort(out.syms_.begin(), out.syms_.end(),
            [](const Sym& a, const Sym& b) { return a.value < b.value; });
  return out;
}

std::optional<SymbolHit> ElfSymbols::lookup_file_offset(uint64_t file_offset) const {
  std::optional<uint64_t> vaddr;
  for (const Load& l : loads_) {
    if (file_offset >= l.offset && file_offset < l.offset + l.filesz) {
      vaddr = file_offset - l.offset + l.vaddr;
      break;
    }
  }
  if (!vaddr) return std::nullopt;
  auto it = std::upper_bound(syms_.begin(), syms_.end(), *vaddr,
                             [](uint64_t v, const Sym& s) { return v < s.value; });
  if (it == syms_.begin()) return std::nullopt;
  --it;
  // The nearest function at or before the address (stripped gaps still name their neighbour).
  return SymbolHit{it->name, *vaddr - it->value};
}

}  // namespace emulator
