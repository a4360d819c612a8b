// Table tests of mode names, mode properties and host-mode detection from /proc/PID/maps.
#include "vsyscall/mode.h"

#include <gtest/gtest.h>

#include <string>

namespace vsyscall {
namespace {

TEST(Mode, ParseAcceptsTheFourKernelNamesOnly) {
  EXPECT_EQ(parse_mode("none"), Mode::kNone);
  EXPECT_EQ(parse_mode("xonly"), Mode::kXonly);
  EXPECT_EQ(parse_mode("emulate"), Mode::kEmulate);
  EXPECT_EQ(parse_mode("native"), Mode::kNative);
  for (const char* bad : {"", "NONE", "Emulate", "emulated", "xonly ", "off", "default"}) {
    EXPECT_FALSE(parse_mode(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(Mode, NamesRoundTrip) {
  for (Mode m : {Mode::kNone, Mode::kXonly, Mode::kEmulate, Mode::kNative}) {
    EXPECT_EQ(parse_mode(mode_name(m)), m);
  }
  EXPECT_EQ(host_mode_name(HostMode::kNone), "none");
  EXPECT_EQ(host_mode_name(HostMode::kXonly), "xonly");
  EXPECT_EQ(host_mode_name(HostMode::kEmulate), "emulate");
}

TEST(Mode, PropertiesFollowTheKernelTable) {
  EXPECT_FALSE(calls_work(Mode::kNone));
  EXPECT_TRUE(calls_work(Mode::kXonly));
  EXPECT_TRUE(calls_work(Mode::kEmulate));
  EXPECT_TRUE(calls_work(Mode::kNative));
  EXPECT_FALSE(page_readable(Mode::kNone));
  EXPECT_FALSE(page_readable(Mode::kXonly));
  EXPECT_TRUE(page_readable(Mode::kEmulate));
  EXPECT_TRUE(page_readable(Mode::kNative));
}

const std::string kMapsHead =
    "55d4c7a00000-55d4c7a02000 r--p 00000000 08:01 1316097                    /usr/bin/cat\n"
    "55d4c7a02000-55d4c7a07000 r-xp 00002000 08:01 1316097                    /usr/bin/cat\n"
    "7f1e2c000000-7f1e2c022000 rw-p 00000000 00:00 0 \n"
    "7f1e2c3d1000-7f1e2c3f7000 r--p 00000000 08:01 1320533                    "
    "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7ffc8e5e0000-7ffc8e601000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffc8e6fa000-7ffc8e6fe000 r--p 00000000 00:00 0                          [vvar]\n"
    "7ffc8e6fe000-7ffc8e700000 r-xp 00000000 00:00 0                          [vdso]\n";

TEST(Mode, HostModeFromMapsTable) {
  struct Row {
    std::string text;
    HostMode want;
  };
  const Row rows[] = {
      {kMapsHead, HostMode::kNone},
      {kMapsHead + "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
                   "                  [vsyscall]\n",
       HostMode::kXonly},
      {kMapsHead + "ffffffffff600000-ffffffffff601000 r-xp 00000000 00:00 0"
                   "                  [vsyscall]\n",
       HostMode::kEmulate},
      // Without the final newline, as a short read might leave it.
      {kMapsHead + "ffffffffff600000-ffffffffff601000 r-xp 00000000 00:00 0 [vsyscall]",
       HostMode::kEmulate},
      {"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n", HostMode::kXonly},
      {"", HostMode::kNone},
      {"\n\n", HostMode::kNone},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(host_mode_from_maps(r.text), r.want) << r.text;
  }
}

}  // namespace
}  // namespace vsyscall
