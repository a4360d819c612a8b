// A small reader of an ELF64 shared object's dynamic symbols (DT_HASH / DT_GNU_HASH lookup).
#include "vdso/dynamic_symbols.h"

#include <elf.h>

#include <algorithm>
#include <cstddef>

#include "vdso/elf_view.h"

namespace vdso {
namespace {

std::nullopt_t fail(std::string* why, const std::string& what) {
  if (why != nullptr) *why = what;
  return std::nullopt;
}

}  // namespace

uint32_t DynamicSymbols::sysv_hash(std::string_view name) {
  uint32_t h = 0;
  for (unsigned char c : name) {
    h = (h << 4) + c;
    const uint32_t g = h & 0xf0000000u;
    if (g != 0) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

uint32_t DynamicSymbols::gnu_hash(std::string_view name) {
  uint32_t h = 5381;
  for (unsigned char c : name) h = h * 33 + c;
  return h;
}

std::span<const uint8_t> DynamicSymbols::mapped_image(const void* ehdr) {
  const auto* base = static_cast<const uint8_t*>(ehdr);
  // The ELF and program headers are inside the first mapped page; trust nothing beyond them.
  const std::span<const uint8_t> head(base, 4096);
  const auto eh = elf::header(head, nullptr);
  if (!eh) return {};
  const auto phdrs = elf::program_headers(head, *eh, nullptr);
  if (!phdrs) return {};
  uint64_t end = 0;
  for (const Elf64_Phdr& ph : *phdrs) {
    if (ph.p_type == PT_LOAD) end = std::max<uint64_t>(end, ph.p_offset + ph.p_filesz);
  }
  return {base, end};
}

std::optional<DynamicSymbols> DynamicSymbols::parse(std::span<const uint8_t> image,
                                                    std::string* why) {
  const auto eh = elf::header(image, why);
  if (!eh) return std::nullopt;
  const auto phdrs = elf::program_headers(image, *eh, why);
  if (!phdrs) return std::nullopt;
  for (const Elf64_Phdr& ph : *phdrs) {
    if (ph.p_offset > image.size() || ph.p_filesz > image.size() - ph.p_offset) {
      return fail(why, "a segment extends past the end of the image");
    }
  }
  const auto dyn_ph = std::find_if(phdrs->begin(), phdrs->end(),
                                   [](const Elf64_Phdr& ph) { return ph.p_type == PT_DYNAMIC; });
  if (dyn_ph == phdrs->end()) return fail(why, "no PT_DYNAMIC");

  uint64_t symtab = 0, strtab = 0, strsz = 0, syment = 0, hash = 0, gnu_hash = 0, versym = 0,
           verdef = 0, verdefnum = 0, soname = 0;
  bool have_soname = false;
  for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dyn_ph->p_filesz; off += sizeof(Elf64_Dyn)) {
    const auto d = elf::read<Elf64_Dyn>(image, dyn_ph->p_offset + off);
    if (!d) return fail(why, "PT_DYNAMIC out of bounds");
    if (d->d_tag == DT_NULL) break;
    const uint64_t v = d->d_un.d_val;
    switch (d->d_tag) {
      case DT_SYMTAB:
        symtab = v;
        break;
      case DT_STRTAB:
        strtab = v;
        break;
      case DT_STRSZ:
        strsz = v;
        break;
      case DT_SYMENT:
        syment = v;
        break;
      case DT_HASH:
        hash = v;
        break;
      case DT_GNU_HASH:
        gnu_hash = v;
        break;
      case DT_VERSYM:
        versym = v;
        break;
      case DT_VERDEF:
        verdef = v;
        break;
      case DT_VERDEFNUM:
        verdefnum = v;
        break;
      case DT_SONAME:
        soname = v;
        have_soname = true;
        break;
      default:
        break;
    }
  }
  if (symtab == 0 || strtab == 0 || strsz == 0) return fail(why, "no DT_SYMTAB/DT_STRTAB");
  if (syment != sizeof(Elf64_Sym)) return fail(why, "DT_SYMENT is not sizeof(Elf64_Sym)");
  if (hash == 0 && gnu_hash == 0) return fail(why, "neither DT_HASH nor DT_GNU_HASH");

  DynamicSymbols out;
  out.image_ = image;
  const auto str_off = elf::offset_of(*phdrs, strtab, strsz);
  const auto sym_off = elf::offset_of(*phdrs, symtab, sizeof(Elf64_Sym));
  if (!str_off || !sym_off) return fail(why, "symbol or string table outside PT_LOAD");
  out.strtab_ = *str_off;
  out.strsz_ = strsz;
  out.symtab_ = *sym_off;

  // Symbol count: DT_HASH says it directly; DT_GNU_HASH needs a walk of its last chain.
  if (hash != 0) {
    const auto off = elf::offset_of(*phdrs, hash, 8);
    if (!off) return fail(why, "DT_HASH outside PT_LOAD");
    out.sysv_hash_ = *off;
    out.nsyms_ = *elf::read<uint32_t>(image, *off + 4);
  }
  if (gnu_hash != 0) {
    const auto off = elf::offset_of(*phdrs, gnu_hash, 16);
    if (!off) return fail(why, "DT_GNU_HASH outside PT_LOAD");
    out.gnu_hash_ = *off;
    if (hash == 0) {
      const uint32_t nbuckets = *elf::read<uint32_t>(image, *off);
      const uint32_t symoffset = *elf::read<uint32_t>(image, *off + 4);
      const uint32_t bloom_size = *elf::read<uint32_t>(image, *off + 8);
      const uint64_t buckets = *off + 16 + uint64_t{bloom_size} * 8;
      const uint64_t chains = buckets + uint64_t{nbuckets} * 4;
      uint32_t last = 0;
      for (uint32_t b = 0; b < nbuckets; ++b) {
        const auto v = elf::read<uint32_t>(image, buckets + uint64_t{b} * 4);
        if (!v) return fail(why, "DT_GNU_HASH buckets out of bounds");
        last = std::max(last, *v);
      }
      if (last < symoffset) {
        out.nsyms_ = symoffset;
      } else {
        for (;; ++last) {
          const auto c = elf::read<uint32_t>(image, chains + uint64_t{last - symoffset} * 4);
          if (!c) return fail(why, "DT_GNU_HASH chain out of bounds");
          if (*c & 1) break;
        }
        out.nsyms_ = last + 1;
      }
    }
  }
  if (out.nsyms_ == 0 || out.nsyms_ > 100000) return fail(why, "implausible symbol count");
  if (!elf::read<uint8_t>(image, out.symtab_ + uint64_t{out.nsyms_} * sizeof(Elf64_Sym) - 1)) {
    return fail(why, "symbol table out of bounds");
  }

  // Version definitions: index -> name.
  std::vector<std::pair<uint16_t, std::string>> versions;
  if (verdef != 0) {
    auto off = elf::offset_of(*phdrs, verdef, sizeof(Elf64_Verdef));
    if (!off) return fail(why, "DT_VERDEF outside PT_LOAD");
    for (uint64_t i = 0; i < verdefnum; ++i) {
      const auto vd = elf::read<Elf64_Verdef>(image, *off);
      if (!vd) return fail(why, "version definition out of bounds");
      const auto aux = elf::read<Elf64_Verdaux>(image, *off + vd->vd_aux);
      if (!aux) return fail(why, "version definition aux out of bounds");
      const auto name = elf::read_string(image, out.strtab_, strsz, aux->vda_name);
      if (!name) return fail(why, "bad version name");
      versions.emplace_back(vd->vd_ndx, *name);
      if (vd->vd_next == 0) break;
      *off += vd->vd_next;
    }
  }
  std::optional<uint64_t> versym_off;
  if (versym != 0) {
    versym_off = elf::offset_of(*phdrs, versym, uint64_t{out.nsyms_} * 2);
    if (!versym_off) return fail(why, "DT_VERSYM outside PT_LOAD");
  }

  for (uint32_t i = 1; i < out.nsyms_; ++i) {
    const auto sym = *elf::read<Elf64_Sym>(image, out.symtab_ + uint64_t{i} * sizeof(Elf64_Sym));
    const auto name = elf::read_string(image, out.strtab_, strsz, sym.st_name);
    if (!name) return fail(why, "bad symbol name");
    DynamicSymbol s;
    s.name = *name;
    s.value = sym.st_value;
    s.size = sym.st_size;
    s.type = ELF64_ST_TYPE(sym.st_info);
    s.binding = ELF64_ST_BIND(sym.st_info);
    s.visibility = ELF64_ST_VISIBILITY(sym.st_other);
    s.section = sym.st_shndx;
    if (versym_off) {
      const uint16_t vs = *elf::read<uint16_t>(image, *versym_off + uint64_t{i} * 2);
      s.hidden_version = (vs & 0x8000) != 0;
      for (const auto& [ndx, vname] : versions) {
        if (ndx == (vs & 0x7fff) && ndx > 1) s.version = vname;
      }
    }
    out.symbols_.push_back(std::move(s));
  }
  if (have_soname) out.soname_ = elf::read_string(image, out.strtab_, strsz, soname);
  return out;
}

bool DynamicSymbols::matches(uint32_t index, std::string_view name) const {
  return index >= 1 && index < nsyms_ && symbols_[index - 1].name == name;
}

std::optional<uint32_t> DynamicSymbols::index_via_sysv_hash(std::string_view name) const {
  if (sysv_hash_ == 0) return std::nullopt;
  const auto nbucket = elf::read<uint32_t>(image_, sysv_hash_);
  const auto nchain = elf::read<uint32_t>(image_, sysv_hash_ + 4);
  if (!nbucket || !nchain || *nbucket == 0) return std::nullopt;
  const uint64_t buckets = sysv_hash_ + 8;
  const uint64_t chains = buckets + uint64_t{*nbucket} * 4;
  auto i = elf::read<uint32_t>(image_, buckets + uint64_t{sysv_hash(name) % *nbucket} * 4);
  // A chain longer than the symbol count is a loop in a corrupt table.
  for (uint32_t steps = 0; i && *i != 0 && steps < *nchain; ++steps) {
    if (matches(*i, name)) return *i;
    if (*i >= *nchain) return std::nullopt;
    i = elf::read<uint32_t>(image_, chains + uint64_t{*i} * 4);
  }
  return std::nullopt;
}

std::optional<uint32_t> DynamicSymbols::index_via_gnu_hash(std::string_view name) const {
  if (gnu_hash_ == 0) return std::nullopt;
  const auto nbuckets = elf::read<uint32_t>(image_, gnu_hash_);
  const auto symoffset = elf::read<uint32_t>(image_, gnu_hash_ + 4);
  const auto bloom_size = elf::read<uint32_t>(image_, gnu_hash_ + 8);
  const auto bloom_shift = elf::read<uint32_t>(image_, gnu_hash_ + 12);
  if (!nbuckets || !symoffset || !bloom_size || !bloom_shift || *nbuckets == 0 ||
      *bloom_size == 0) {
    return std::nullopt;
  }
  const uint32_t h = gnu_hash(name);
  const uint64_t bloom = gnu_hash_ + 16;
  const auto word = elf::read<uint64_t>(image_, bloom + uint64_t{(h / 64) % *bloom_size} * 8);
  if (!word) return std::nullopt;
  const uint64_t mask = (uint64_t{1} << (h % 64)) | (uint64_t{1} << ((h >> *bloom_shift) % 64));
  if ((*word & mask) != mask) return std::nullopt;
  const uint64_t buckets = bloom + uint64_t{*bloom_size} * 8;
  const uint64_t chains = buckets + uint64_t{*nbuckets} * 4;
  const auto first = elf::read<uint32_t>(image_, buckets + uint64_t{h % *nbuckets} * 4);
  if (!first || *first == 0 || *first < *symoffset) return std::nullopt;
  for (uint32_t i = *first; i < nsyms_; ++i) {
    const auto c = elf::read<uint32_t>(image_, chains + uint64_t{i - *symoffset} * 4);
    if (!c) return std::nullopt;
    if ((*c | 1) == (h | 1) && matches(i, name)) return i;
    if (*c & 1) break;
  }
  return std::nullopt;
}

std::optional<uint32_t> DynamicSymbols::find(std::string_view name,
                                             std::string_view version) const {
  const auto index = gnu_hash_ != 0 ? index_via_gnu_hash(name) : index_via_sysv_hash(name);
  if (!index) return std::nullopt;
  const DynamicSymbol& s = symbols_[*index - 1];
  if (s.section == SHN_UNDEF) return std::nullopt;
  if (!version.empty() && s.version != version) return std::nullopt;
  return index;
}

std::optional<uint64_t> DynamicSymbols::lookup(std::string_view name,
                                               std::string_view version) const {
  const auto index = find(name, version);
  if (!index) return std::nullopt;
  return symbols_[*index - 1].value;
}

std::optional<uint64_t> DynamicSymbols::value_offset(std::string_view name,
                                                     std::string_view version) const {
  const auto index = find(name, version);
  if (!index) return std::nullopt;
  return symtab_ + uint64_t{*index} * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_value);
}

}  // namespace vdso
