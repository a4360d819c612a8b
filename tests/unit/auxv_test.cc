// Tests the initial-stack walker on synthetic stacks.
#include "emulator/inject/auxv.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

namespace emulator {
namespace {

std::vector<uint8_t> stack_of(std::vector<uint64_t> words) {
  std::vector<uint8_t> b(words.size() * 8);
  std::memcpy(b.data(), words.data(), b.size());
  return b;
}

}  // namespace

TEST(Auxv, FindsEntriesAfterArgvAndEnvp) {
  auto s = stack_of(
      {2, 0x1000, 0x2000, 0, 0x3000, 0, AT_PAGESZ, 4096, AT_SYSINFO_EHDR, 0x7fff0000, AT_NULL, 0});
  auto aux = parse_initial_stack(s);
  ASSERT_TRUE(aux.has_value());
  ASSERT_EQ(aux->size(), 3u);
  EXPECT_EQ((*aux)[1].type, uint64_t{AT_SYSINFO_EHDR});
  EXPECT_EQ((*aux)[1].value, 0x7fff0000u);
  EXPECT_EQ((*aux)[1].offset, 8u * 8);
  EXPECT_EQ((*aux)[2].type, uint64_t{AT_NULL});
}

TEST(Auxv, EmptyEnvironmentWorks) {
  auto aux = parse_initial_stack(stack_of({0, 0, 0, AT_NULL, 0}));
  ASSERT_TRUE(aux.has_value());
  EXPECT_EQ(aux->size(), 1u);
}

TEST(Auxv, TruncatedStackIsRejected) {
  EXPECT_FALSE(parse_initial_stack(stack_of({1, 0x1000, 0, 0x3000})).has_value());
  EXPECT_FALSE(parse_initial_stack(stack_of({1, 0x1000, 0, 0, AT_PAGESZ, 4096})).has_value());
  EXPECT_FALSE(parse_initial_stack(stack_of({1 << 30})).has_value());
  EXPECT_FALSE(parse_initial_stack({}).has_value());
}

}  // namespace emulator
