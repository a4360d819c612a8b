// The injector's requirements on a vDSO image (see image_check.h).
#include "vdso/image_check.h"

#include <elf.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vdso/dynamic_symbols.h"
#include "vdso/elf_view.h"
#include "vdso/host_table.h"
#include "vdso/vvar.h"

namespace vdso {
namespace {

#ifndef SHT_RELR
#define SHT_RELR 19
#endif
#ifndef DT_RELR
#define DT_RELR 36
#endif

bool fail(std::string* why, const std::string& what) {
  if (why != nullptr) *why = what;
  return false;
}

std::string hex(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

// Dynamic tags that would need the loader to do work the vDSO must never need.
const char* forbidden_tag(int64_t tag) {
  switch (tag) {
    case DT_NEEDED:
      return "DT_NEEDED";
    case DT_PLTRELSZ:
      return "DT_PLTRELSZ";
    case DT_PLTGOT:
      return "DT_PLTGOT";
    case DT_RELA:
      return "DT_RELA";
    case DT_RELASZ:
      return "DT_RELASZ";
    case DT_INIT:
      return "DT_INIT";
    case DT_FINI:
      return "DT_FINI";
    case DT_RPATH:
      return "DT_RPATH";
    case DT_REL:
      return "DT_REL";
    case DT_RELSZ:
      return "DT_RELSZ";
    case DT_PLTREL:
      return "DT_PLTREL";
    case DT_TEXTREL:
      return "DT_TEXTREL";
    case DT_JMPREL:
      return "DT_JMPREL";
    case DT_INIT_ARRAY:
      return "DT_INIT_ARRAY";
    case DT_FINI_ARRAY:
      return "DT_FINI_ARRAY";
    case DT_RUNPATH:
      return "DT_RUNPATH";
    case DT_PREINIT_ARRAY:
      return "DT_PREINIT_ARRAY";
    case DT_RELR:
      return "DT_RELR";
    case DT_RELACOUNT:
      return "DT_RELACOUNT";
    case DT_RELCOUNT:
      return "DT_RELCOUNT";
    case DT_VERNEED:
      return "DT_VERNEED";
    default:
      return nullptr;
  }
}

bool starts_with_any(const std::string& name, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (name.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

bool check_segments(std::span<const uint8_t> image, const std::vector<Elf64_Phdr>& phdrs,
                    std::string* why) {
  const Elf64_Phdr* load = nullptr;
  int dynamics = 0;
  for (const Elf64_Phdr& ph : phdrs) {
    switch (ph.p_type) {
      case PT_LOAD:
        if (load != nullptr) return fail(why, "more than one PT_LOAD");
        load = &ph;
        break;
      case PT_DYNAMIC:
        ++dynamics;
        break;
      case PT_NOTE:
      case PT_GNU_EH_FRAME:
        break;
      default:
        return fail(why, "unexpected program header type " + hex(ph.p_type));
    }
  }
  if (load == nullptr) return fail(why, "no PT_LOAD");
  if (dynamics != 1) return fail(why, "not exactly one PT_DYNAMIC");
  if (load->p_flags != (PF_R | PF_X)) return fail(why, "PT_LOAD is not exactly R+X");
  if (load->p_offset != 0 || load->p_vaddr != 0) {
    return fail(why, "PT_LOAD does not start at file offset 0 == address 0");
  }
  if (load->p_filesz != load->p_memsz) return fail(why, "PT_LOAD has p_filesz != p_memsz");
  if (load->p_filesz > image.size()) return fail(why, "PT_LOAD extends past the image");
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_flags & PF_W) return fail(why, "a writable segment");
    if (ph.p_offset != ph.p_vaddr) return fail(why, "a segment with p_offset != p_vaddr");
    if (ph.p_filesz != ph.p_memsz) return fail(why, "a segment with p_filesz != p_memsz");
    if (ph.p_offset > load->p_filesz || ph.p_filesz > load->p_filesz - ph.p_offset) {
      return fail(why, "a segment outside PT_LOAD");
    }
    if (ph.p_type == PT_DYNAMIC && ph.p_flags != PF_R) {
      return fail(why, "PT_DYNAMIC is not read-only (glibc would write to it)");
    }
  }
  return true;
}

bool check_dynamic(std::span<const uint8_t> image, const std::vector<Elf64_Phdr>& phdrs,
                   std::string* why) {
  std::set<int64_t> seen;
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type != PT_DYNAMIC) continue;
    bool terminated = false;
    for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= ph.p_filesz; off += sizeof(Elf64_Dyn)) {
      const auto d = elf::read<Elf64_Dyn>(image, ph.p_offset + off);
      if (!d) return fail(why, "PT_DYNAMIC out of bounds");
      if (d->d_tag == DT_NULL) {
        terminated = true;
        break;
      }
      if (const char* name = forbidden_tag(d->d_tag)) {
        return fail(why, std::string("forbidden dynamic tag ") + name);
      }
      if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)) {
        return fail(why, "DF_TEXTREL set");
      }
      seen.insert(d->d_tag);
    }
    if (!terminated) return fail(why, "PT_DYNAMIC has no DT_NULL");
  }
  const std::pair<int64_t, const char*> required[] = {
      {DT_HASH, "DT_HASH"},     {DT_GNU_HASH, "DT_GNU_HASH"}, {DT_SYMTAB, "DT_SYMTAB"},
      {DT_STRTAB, "DT_STRTAB"}, {DT_SONAME, "DT_SONAME"},     {DT_VERSYM, "DT_VERSYM"},
      {DT_VERDEF, "DT_VERDEF"},
  };
  for (const auto& [tag, name] : required) {
    if (!seen.count(tag)) return fail(why, std::string("missing ") + name);
  }
  return true;
}

std::optional<std::string> section_name(std::span<const uint8_t> image, const Elf64_Ehdr& eh,
                                        const std::vector<Elf64_Shdr>& shdrs,
                                        const Elf64_Shdr& sh) {
  if (eh.e_shstrndx >= shdrs.size()) return std::nullopt;
  const Elf64_Shdr& names = shdrs[eh.e_shstrndx];
  return elf::read_string(image, names.sh_offset, names.sh_size, sh.sh_name);
}

bool check_sections(std::span<const uint8_t> image, const Elf64_Ehdr& eh,
                    const std::vector<Elf64_Shdr>& shdrs, uint64_t load_size, std::string* why) {
  for (const Elf64_Shdr& sh : shdrs) {
    if (sh.sh_type == SHT_NULL) continue;
    const auto name = section_name(image, eh, shdrs, sh);
    if (!name) return fail(why, "unreadable section name");
    if (sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA || sh.sh_type == SHT_RELR) {
      return fail(why, "relocation section " + *name);
    }
    if (!(sh.sh_flags & SHF_ALLOC)) continue;
    if (sh.sh_type == SHT_NOBITS) return fail(why, "zero-filled section " + *name);
    if (sh.sh_flags & SHF_TLS) return fail(why, "TLS section " + *name);
    // .dynamic always carries SHF_WRITE; PT_DYNAMIC (checked read-only) is what loaders obey.
    if ((sh.sh_flags & SHF_WRITE) && *name != ".dynamic") {
      return fail(why, "writable section " + *name);
    }
    if (starts_with_any(*name, {".data", ".bss", ".tdata", ".tbss", ".got", ".plt", ".init",
                                ".fini", ".ctors", ".dtors", ".preinit_array"})) {
      return fail(why, "forbidden section " + *name);
    }
    if (sh.sh_addr != sh.sh_offset || sh.sh_addr > load_size ||
        sh.sh_size > load_size - sh.sh_addr) {
      return fail(why, "section " + *name + " is not inside PT_LOAD at its file offset");
    }
  }
  return true;
}

bool in_executable_section(const std::vector<Elf64_Shdr>& shdrs, uint64_t addr, uint64_t size) {
  for (const Elf64_Shdr& sh : shdrs) {
    if (!(sh.sh_flags & SHF_ALLOC) || !(sh.sh_flags & SHF_EXECINSTR)) continue;
    if (addr >= sh.sh_addr && addr - sh.sh_addr < sh.sh_size &&
        size <= sh.sh_size - (addr - sh.sh_addr)) {
      return true;
    }
  }
  return false;
}

bool check_exports(const DynamicSymbols& syms, const std::vector<Elf64_Shdr>& shdrs,
                   std::string* why) {
  if (syms.soname() != std::string(kSoname)) {
    return fail(why, "soname is not " + std::string(kSoname));
  }
  std::set<std::string> expected;
  for (std::string_view f : kExportedFunctions) {
    expected.insert(std::string(f));
    expected.insert("__vdso_" + std::string(f));
  }
  std::set<std::string> found;
  for (const DynamicSymbol& s : syms.symbols()) {
    if (s.name == kVersion && s.section == SHN_ABS && s.type == STT_OBJECT) continue;
    if (s.section == SHN_UNDEF) return fail(why, "undefined dynamic symbol " + s.name);
    if (!expected.count(s.name)) return fail(why, "unexpected dynamic symbol " + s.name);
    if (!found.insert(s.name).second) return fail(why, "duplicate dynamic symbol " + s.name);
    if (s.type != STT_FUNC) return fail(why, s.name + " is not STT_FUNC");
    if (s.visibility != STV_DEFAULT) return fail(why, s.name + " is not default visibility");
    if (s.version != kVersion || s.hidden_version) {
      return fail(why, s.name + " is not at default version " + std::string(kVersion));
    }
    const bool alias = s.name.compare(0, 7, "__vdso_") != 0;
    if (s.binding != (alias ? STB_WEAK : STB_GLOBAL)) {
      return fail(why, s.name + (alias ? " is not STB_WEAK" : " is not STB_GLOBAL"));
    }
    if (s.size == 0 || !in_executable_section(shdrs, s.value, s.size)) {
      return fail(why, s.name + " is not inside an executable section");
    }
    if (syms.index_via_sysv_hash(s.name) != syms.index_via_gnu_hash(s.name) ||
        !syms.index_via_sysv_hash(s.name)) {
      return fail(why, s.name + " is not found alike through DT_HASH and DT_GNU_HASH");
    }
  }
  if (found != expected) return fail(why, "an export is missing");
  for (std::string_view f : kExportedFunctions) {
    if (syms.lookup(f, kVersion) != syms.lookup("__vdso_" + std::string(f), kVersion)) {
      return fail(why, std::string(f) + " is not an alias of __vdso_" + std::string(f));
    }
  }
  return true;
}

// The static symbol table's entry for `wanted` (the hidden symbols the vDSO's code uses).
std::optional<Elf64_Sym> static_symbol(std::span<const uint8_t> image,
                                       const std::vector<Elf64_Shdr>& shdrs,
                                       std::string_view wanted, std::string* why) {
  for (const Elf64_Shdr& sh : shdrs) {
    if (sh.sh_type != SHT_SYMTAB) continue;
    if (sh.sh_link >= shdrs.size() || sh.sh_entsize != sizeof(Elf64_Sym)) {
      fail(why, "malformed .symtab");
      return std::nullopt;
    }
    const Elf64_Shdr& strtab = shdrs[sh.sh_link];
    for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
      const auto sym = elf::read<Elf64_Sym>(image, sh.sh_offset + off);
      if (!sym) {
        fail(why, ".symtab out of bounds");
        return std::nullopt;
      }
      const auto name = elf::read_string(image, strtab.sh_offset, strtab.sh_size, sym->st_name);
      if (name && *name == wanted) return sym;
    }
  }
  fail(why, "no .symtab entry for " + std::string(wanted));
  return std::nullopt;
}

// The hidden vvar symbol must sit kVvarSize below the image, which is where the injector maps
// the vvar object.
bool check_vvar_symbol(std::span<const uint8_t> image, const std::vector<Elf64_Shdr>& shdrs,
                       std::string* why) {
  const auto sym = static_symbol(image, shdrs, kVvarSymbol, why);
  if (!sym) return false;
  if (sym->st_value != static_cast<uint64_t>(-static_cast<int64_t>(kVvarSize))) {
    return fail(why, std::string(kVvarSymbol) + " is at " + hex(sym->st_value) +
                         ", not kVvarSize below the image");
  }
  if (ELF64_ST_BIND(sym->st_info) != STB_LOCAL) {
    return fail(why, std::string(kVvarSymbol) + " is not local");
  }
  return true;
}

// The host table must be a local object of the right size in a read-only, non-executable
// section inside the image, aligned for 64-bit stores; the functions the injector links into
// it must be local functions inside an executable section.
std::optional<ImageLinks> find_links(std::span<const uint8_t> image,
                                     const std::vector<Elf64_Shdr>& shdrs, std::string* why) {
  auto inside = [&](const Elf64_Sym& sym, bool exec) {
    if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= shdrs.size()) return false;
    const Elf64_Shdr& sh = shdrs[sym.st_shndx];
    const bool is_exec = (sh.sh_flags & SHF_EXECINSTR) != 0;
    return (sh.sh_flags & SHF_WRITE) == 0 && is_exec == exec && sh.sh_type == SHT_PROGBITS &&
           sym.st_value >= sh.sh_addr && sym.st_value + sym.st_size <= sh.sh_addr + sh.sh_size &&
           sym.st_value + sym.st_size <= image.size();
  };
  auto function = [&](const char* name) -> std::optional<uint64_t> {
    const auto sym = static_symbol(image, shdrs, name, why);
    if (!sym) return std::nullopt;
    if (ELF64_ST_BIND(sym->st_info) != STB_LOCAL || ELF64_ST_TYPE(sym->st_info) != STT_FUNC ||
        sym->st_size == 0 || !inside(*sym, true)) {
      fail(why, std::string(name) + " is not a local function inside the image's code");
      return std::nullopt;
    }
    return sym->st_value;
  };
  ImageLinks links;
  const auto table = static_symbol(image, shdrs, kHostTableSymbol, why);
  if (!table) return std::nullopt;
  const std::string name(kHostTableSymbol);
  if (ELF64_ST_BIND(table->st_info) != STB_LOCAL || ELF64_ST_TYPE(table->st_info) != STT_OBJECT ||
      table->st_size != sizeof(HostTable) || table->st_value % 8 != 0 || !inside(*table, false)) {
    fail(why, name + " is not a local, aligned object of its size in the image's read-only data");
    return std::nullopt;
  }
  links.table = table->st_value;
  for (int i = 0; i < kKernelFunctions; ++i) {
    const auto f = function(kSyscallStubNames[i]);
    if (!f) return std::nullopt;
    links.syscall_stubs[i] = *f;
  }
  const auto time = function(kTransformedTimeName);
  const auto coarse = function(kTransformedCoarseName);
  if (!time || !coarse) return std::nullopt;
  links.transformed_time = *time;
  links.transformed_coarse = *coarse;
  const auto syms = DynamicSymbols::parse(image, why);
  if (!syms) return std::nullopt;
  const auto plain = syms->value_offset("time", kVersion);
  const auto vdso_name = syms->value_offset("__vdso_time", kVersion);
  if (!plain || !vdso_name) {
    fail(why, "no dynamic symbol time / __vdso_time to link");
    return std::nullopt;
  }
  links.time_values[0] = *plain;
  links.time_values[1] = *vdso_name;
  return links;
}

}  // namespace

std::optional<ImageLinks> image_links(std::span<const uint8_t> image) {
  const auto eh = elf::header(image, nullptr);
  if (!eh) return std::nullopt;
  const auto shdrs = elf::section_headers(image, *eh, nullptr);
  if (!shdrs) return std::nullopt;
  return find_links(image, *shdrs, nullptr);
}

bool check_image(std::span<const uint8_t> image, std::string* why) {
  std::string scratch;
  if (why == nullptr) why = &scratch;
  const auto eh = elf::header(image, why);
  if (!eh) return false;
  if (eh->e_type != ET_DYN) return fail(why, "not ET_DYN");
  const auto phdrs = elf::program_headers(image, *eh, why);
  if (!phdrs) return false;
  if (!check_segments(image, *phdrs, why)) return false;
  const auto shdrs = elf::section_headers(image, *eh, why);
  if (!shdrs) return false;
  if (shdrs->empty()) return fail(why, "no section headers");
  uint64_t load_size = 0;
  for (const Elf64_Phdr& ph : *phdrs) {
    if (ph.p_type == PT_LOAD) load_size = ph.p_filesz;
  }
  if (!check_dynamic(image, *phdrs, why)) return false;
  if (!check_sections(image, *eh, *shdrs, load_size, why)) return false;
  const auto syms = DynamicSymbols::parse(image, why);
  if (!syms) return false;
  if (!check_exports(*syms, *shdrs, why)) return false;
  return check_vvar_symbol(image, *shdrs, why) && find_links(image, *shdrs, why).has_value();
}

}  // namespace vdso
