// Tests the page image and entry arithmetic.
#include "vsyscall/page.h"

#include <gtest/gtest.h>

namespace vsyscall {

TEST(Page, ImageHasEntryCodeAtEachEntry) {
  const auto& img = page_image();
  const uint8_t gtod[] = {0x48, 0xc7, 0xc0, 0x60, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3};
  const uint8_t getcpu[] = {0x48, 0xc7, 0xc0, 0x35, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xc3};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(img[i], gtod[i]) << i;
    EXPECT_EQ(img[0x800 + i], getcpu[i]) << i;
  }
  EXPECT_EQ(img[0x401], 0xc7);
  EXPECT_EQ(img[0x403], 201);
  EXPECT_EQ(img[10], 0xcc);
  EXPECT_EQ(img[0xfff], 0xcc);
}

TEST(Page, EntryAtAcceptsOnlyExactEntries) {
  EXPECT_EQ(entry_at(0xffffffffff600000ULL), Entry::kGettimeofday);
  EXPECT_EQ(entry_at(0xffffffffff600400ULL), Entry::kTime);
  EXPECT_EQ(entry_at(0xffffffffff600800ULL), Entry::kGetcpu);
  EXPECT_FALSE(entry_at(0xffffffffff600001ULL).has_value());
  EXPECT_FALSE(entry_at(0xffffffffff600c00ULL).has_value());
}

}  // namespace vsyscall
