// Tests /proc/PID/maps parsing and lookup.
#include "emulator/trace/maps.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace emulator {

TEST(Maps, ParsesFileAnonymousAndSpecialLines) {
  const char* text =
      "00400000-00452000 r-xp 00001000 08:02 173521      /usr/bin/my prog\n"
      "7ffd1000-7ffd2000 rw-p 00000000 00:00 0           [stack]\n"
      "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0   [vsyscall]\n"
      "garbage line\n";
  auto maps = parse_maps(text);
  ASSERT_EQ(maps.size(), 4u);
  EXPECT_EQ(maps[0].start, 0x400000u);
  EXPECT_EQ(maps[0].end, 0x452000u);
  EXPECT_EQ(maps[0].perms, "r-xp");
  EXPECT_EQ(maps[0].offset, 0x1000u);
  EXPECT_EQ(maps[0].path, "/usr/bin/my prog");
  EXPECT_EQ(maps[1].path, "[stack]");
  EXPECT_EQ(maps[2].path, "");
  EXPECT_EQ(maps[3].start, 0xffffffffff600000ULL);
  EXPECT_EQ(find_mapping(maps, 0x400123), &maps[0]);
  EXPECT_EQ(find_mapping(maps, 0x452000), nullptr);
}

TEST(Maps, ReadsOwnMapsAndFindsOwnCode) {
  auto maps = read_maps(getpid());
  ASSERT_FALSE(maps.empty());
  const MapEntry* self = find_mapping(maps, reinterpret_cast<uint64_t>(&parse_maps));
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->perms[2], 'x');
  EXPECT_FALSE(self->path.empty());
}

TEST(Maps, MissingProcessGivesNothing) {
  EXPECT_TRUE(read_maps(0x7ffffff0).empty());
}

TEST(Maps, StatusValueReadsAFieldOfAnyLine) {
  const std::string status = "Name:\tcat\nState:\tZ (zombie)\nTgid:\t42\nUid:\t0\t1\t2\t3\n";
  EXPECT_EQ(status_value(status, "Name"), "cat");
  EXPECT_EQ(status_value(status, "State"), "Z (zombie)");
  EXPECT_EQ(status_value(status, "Uid"), "0\t1\t2\t3");
  EXPECT_EQ(status_value(status, "Tgid"), "42");
  EXPECT_FALSE(status_value(status, "VmSize").has_value());
  EXPECT_FALSE(status_value(status, "gid").has_value());  // not the end of "Tgid"
  EXPECT_FALSE(status_value("", "Name").has_value());
}

}  // namespace emulator
