// Build-time check of the vDSO: the linked file given as argv[1] and the copy embedded in
// vdsorun must both pass vdso::check_image, be identical, and hold no divide instruction
// (readers must not divide: the clock math uses multiplies and a bounded carry loop).
#include <capstone/capstone.h>
#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vdso/dynamic_symbols.h"
#include "vdso/image.h"
#include "vdso/image_check.h"

namespace {

bool check(const char* what, std::span<const uint8_t> image) {
  std::string why;
  if (!vdso::check_image(image, &why)) {
    std::printf("FAIL %s: %s\n", what, why.c_str());
    return false;
  }
  std::printf("ok   %s passes check_image (%zu bytes)\n", what, image.size());
  return true;
}

// Counts div/idiv instructions in the executable sections.
int divides(std::span<const uint8_t> image) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof eh);
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return -1;
  int count = 0;
  for (int i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, image.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    if (!(sh.sh_flags & SHF_EXECINSTR)) continue;
    cs_insn* insn = nullptr;
    const size_t n =
        cs_disasm(handle, image.data() + sh.sh_offset, sh.sh_size, sh.sh_addr, 0, &insn);
    for (size_t k = 0; k < n; ++k) {
      if (insn[k].id == X86_INS_DIV || insn[k].id == X86_INS_IDIV) {
        std::printf("FAIL divide at 0x%llx: %s %s\n",
                    static_cast<unsigned long long>(insn[k].address), insn[k].mnemonic,
                    insn[k].op_str);
        ++count;
      }
    }
    cs_free(insn, n);
  }
  cs_close(&handle);
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s vdso.so\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  bool ok = check(argv[1], file);
  ok = check("embedded image", vdso::image()) && ok;
  if (file.size() != vdso::image().size() ||
      std::memcmp(file.data(), vdso::image().data(), file.size()) != 0) {
    std::printf("FAIL the embedded image differs from %s\n", argv[1]);
    ok = false;
  }
  const int divs = divides(vdso::image());
  if (divs != 0) {
    std::printf("FAIL %d divide instruction(s)\n", divs);
    ok = false;
  } else {
    std::printf("ok   no divide instructions\n");
  }
  if (const auto syms = vdso::DynamicSymbols::parse(vdso::image(), nullptr)) {
    for (const auto& s : syms->symbols()) {
      std::printf("     export %-22s %-10s @0x%04llx size %llu\n", s.name.c_str(),
                  s.version.c_str(), static_cast<unsigned long long>(s.value),
                  static_cast<unsigned long long>(s.size));
    }
  }
  std::printf("     vvar: %zu page(s) at -0x%zx; injection %zu bytes\n", vdso::kVvarPages,
              vdso::kVvarSize, vdso::injection_size());
  return ok ? 0 : 1;
}
