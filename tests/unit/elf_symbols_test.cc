// Tests symbol lookup on this test binary itself.
#include "emulator/elf_symbols.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "emulator/maps.h"

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

}  // namespace emulator
