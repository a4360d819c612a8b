// Bounds-checked reads of ELF64 structures out of a byte span.
#include "vdso/elf_view.h"

namespace vdso::elf {
namespace {

// Records why parsing stopped; returns nullopt for the caller to pass on.
std::nullopt_t fail(std::string* why, const char* what) {
  if (why != nullptr) *why = what;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> read_string(std::span<const uint8_t> bytes, uint64_t begin,
                                       uint64_t size, uint64_t offset) {
  if (begin > bytes.size() || size > bytes.size() - begin || offset >= size) return std::nullopt;
  const char* s = reinterpret_cast<const char*>(bytes.data() + begin + offset);
  const void* nul = std::memchr(s, 0, size - offset);
  if (nul == nullptr) return std::nullopt;
  return std::string(s, static_cast<const char*>(nul));
}

std::optional<Elf64_Ehdr> header(std::span<const uint8_t> bytes, std::string* why) {
  const auto eh = read<Elf64_Ehdr>(bytes, 0);
  if (!eh) return fail(why, "shorter than an ELF header");
  if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) return fail(why, "no ELF magic");
  if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
      eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_machine != EM_X86_64) {
    return fail(why, "not a little-endian x86-64 ELF64 image");
  }
  return eh;
}

std::optional<std::vector<Elf64_Phdr>> program_headers(std::span<const uint8_t> bytes,
                                                       const Elf64_Ehdr& eh, std::string* why) {
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return fail(why, "e_phentsize is not sizeof(Elf64_Phdr)");
  }
  std::vector<Elf64_Phdr> out;
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    const auto ph = read<Elf64_Phdr>(bytes, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (!ph) return fail(why, "program header table out of bounds");
    out.push_back(*ph);
  }
  return out;
}

std::optional<std::vector<Elf64_Shdr>> section_headers(std::span<const uint8_t> bytes,
                                                       const Elf64_Ehdr& eh, std::string* why) {
  std::vector<Elf64_Shdr> out;
  if (eh.e_shnum == 0) return out;
  if (eh.e_shentsize != sizeof(Elf64_Shdr)) {
    return fail(why, "e_shentsize is not sizeof(Elf64_Shdr)");
  }
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    const auto sh = read<Elf64_Shdr>(bytes, eh.e_shoff + i * sizeof(Elf64_Shdr));
    if (!sh) return fail(why, "section header table out of bounds");
    out.push_back(*sh);
  }
  return out;
}

std::optional<uint64_t> offset_of(const std::vector<Elf64_Phdr>& phdrs, uint64_t vaddr,
                                  uint64_t size) {
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type != PT_LOAD) continue;
    if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr > ph.p_filesz) continue;
    if (size > ph.p_filesz - (vaddr - ph.p_vaddr)) continue;
    return ph.p_offset + (vaddr - ph.p_vaddr);
  }
  return std::nullopt;
}

}  // namespace vdso::elf
