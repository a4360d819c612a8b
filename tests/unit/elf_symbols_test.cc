// Tests symbol lookup on this test binary itself.
#include "emulator/report/elf_symbols.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "emulator/trace/maps.h"

extern "C" __attribute__((noinline, used)) int vdsorun_test_marker_function(int x) {
  return x * 3 + 1;
}

namespace emulator {

TEST(ElfSymbols, FindsOwnFunctionByFileOffset) {
  const uint64_t addr = reinterpret_cast<uint64_t>(&vdsorun_test_marker_function) + 2;
  auto maps = read_maps(getpid());
  const MapEntry* m = find_mapping(maps, addr);
  ASSERT_NE(m, nullptr);
  auto syms = ElfSymbols::load(m->path);
  ASSERT_TRUE(syms.has_value());
  auto hit = syms->lookup_file_offset(addr - m->start + m->offset);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->name, "vdsorun_test_marker_function");
  EXPECT_EQ(hit->offset_in_symbol, 2u);
}

TEST(ElfSymbols, NonElfFilesAreRejected) {
  EXPECT_FALSE(ElfSymbols::load("/etc/hostname").has_value());
  EXPECT_FALSE(ElfSymbols::load("/nonexistent").has_value());
}

TEST(ElfSymbols, TruncatedOrHostileImagesAreParsedWithinBounds) {
  EXPECT_FALSE(ElfSymbols::parse("").has_value());
  EXPECT_FALSE(ElfSymbols::parse("\x7f"
                                 "ELF")
                   .has_value());
  // A 64-bit header whose tables point far outside the image: parsed, nothing found.
  std::string img(64, '\0');
  img.replace(0, 5,
              "\x7f"
              "ELF\x02");
  for (int i = 32; i < 48; ++i) img[i] = '\xff';  // e_phoff, e_shoff
  img[56] = img[60] = '\xff';                     // e_phnum, e_shnum
  auto syms = ElfSymbols::parse(img);
  ASSERT_TRUE(syms.has_value());
  EXPECT_FALSE(syms->lookup_file_offset(0).has_value());
}

// Found by fuzz/elf_symbols_fuzzer.cc (UBSan: pointer overflow): a string table whose offset
// plus the symbol's name offset wraps to the start of the file named the symbol "\x7f" "ELF".
TEST(ElfSymbols, NameOffsetThatWrapsIsNotANameAtTheStartOfTheFile) {
  std::string img(512, '\0');
  auto put = [&img](size_t at, const auto& v) { std::memcpy(&img[at], &v, sizeof v); };
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_phoff = 64;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  eh.e_shoff = 128;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 2;
  put(0, eh);
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_vaddr = 0x1000;
  ph.p_filesz = img.size();
  put(64, ph);
  Elf64_Shdr symtab{};
  symtab.sh_type = SHT_SYMTAB;
  symtab.sh_link = 1;
  symtab.sh_entsize = sizeof(Elf64_Sym);
  symtab.sh_offset = 320;
  symtab.sh_size = sizeof(Elf64_Sym);
  put(128, symtab);
  Elf64_Shdr strtab{};
  strtab.sh_type = SHT_STRTAB;
  strtab.sh_offset = ~uint64_t{0};  // + st_name 1 wraps to offset 0
  strtab.sh_size = 16;
  put(128 + sizeof(Elf64_Shdr), strtab);
  Elf64_Sym sym{};
  sym.st_name = 1;
  sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  sym.st_value = 0x1000;
  sym.st_size = 16;
  put(320, sym);

  auto syms = ElfSymbols::parse(img);
  ASSERT_TRUE(syms.has_value());
  const auto hit = syms->lookup_file_offset(4);
  EXPECT_FALSE(hit.has_value()) << "named " << hit->name;
}

}  // namespace emulator
