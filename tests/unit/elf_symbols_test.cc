// Tests symbol lookup on this test binary itself.
#include "emulator/report/elf_symbols.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace emulator
