// Tests the clock-path choice for every input: clocksource, CPU flags and whether there is a
// kernel vDSO. Whatever machine runs this, every path is taken.
#include "emulator/clock/clock_choice.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace emulator {
namespace {

const std::string kGoodFlags = "flags\t\t: fpu tsc constant_tsc rep_good nonstop_tsc cpuid";

const std::vector<std::string> kClocksources = {
    "tsc", "tsc\n",     "kvm-clock\n", "hyperv_clocksource_tsc_page",
    "xen", "hpet\n",    "acpi_pm",     "jiffies",
    "",    "tsc-early", "kvm-clock-x"};
const std::vector<std::string> kFlags = {kGoodFlags, "flags : fpu tsc nonstop_tsc",
                                         "flags : constant_tsc nonstop_tsc_x",
                                         "flags : constant_tsc\tnonstop_tsc", ""};

bool invariant(const std::string& flags) {
  return flags == kGoodFlags || flags == "flags : constant_tsc\tnonstop_tsc";
}

std::string trim(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

TEST(ClockChoice, EveryInputTakesThePathItsRulesGive) {
  for (const std::string& cs : kClocksources) {
    for (const std::string& flags : kFlags) {
      for (bool kernel_vdso : {true, false}) {
        const ClockChoice c = choose_clock({cs, flags, kernel_vdso});
        const std::string name = trim(cs);
        const bool tsc = invariant(flags) && name == "tsc";
        SCOPED_TRACE("clocksource '" + name + "', flags '" + flags + "', kernel vDSO " +
                     std::to_string(kernel_vdso) + ": " + c.why);
        const ClockPath fallback = kernel_vdso ? ClockPath::kKernelVdso : ClockPath::kSyscall;
        EXPECT_EQ(c.path, tsc ? ClockPath::kTsc : fallback);
        const bool kernel_fast =
            name == "tsc" || name == "kvm-clock" || name == "hyperv_clocksource_tsc_page";
        EXPECT_EQ(c.fast, tsc || (kernel_vdso && kernel_fast));
        EXPECT_FALSE(c.why.empty());
      }
    }
  }
}

TEST(ClockChoice, ReasonsNameWhatFailed) {
  EXPECT_NE(choose_clock({"tsc", "flags : nonstop_tsc", true}).why.find("constant_tsc"),
            std::string::npos);
  EXPECT_NE(choose_clock({"tsc", "flags : constant_tsc", true}).why.find("nonstop_tsc"),
            std::string::npos);
  EXPECT_NE(choose_clock({"hpet\n", kGoodFlags, true}).why.find("hpet"), std::string::npos);
  EXPECT_NE(choose_clock({"", kGoodFlags, true}).why.find("unknown"), std::string::npos);
  EXPECT_NE(choose_clock({"hpet", kGoodFlags, false}).why.find("syscalls"), std::string::npos);
  EXPECT_NE(choose_clock({"hpet", kGoodFlags, true}).why.find("kernel's vDSO"), std::string::npos);
}

TEST(ClockChoice, KvmClockMachineUsesTheKernelsVdso) {
  // The machine the issue was measured on: kvm-clock, tsc=unstable, invariant TSC flags.
  const std::string flags = "flags : constant_tsc nonstop_tsc tsc_known_freq tsc_reliable";
  const ClockChoice c = choose_clock({"kvm-clock\n", flags, true});
  EXPECT_EQ(c.path, ClockPath::kKernelVdso);
  EXPECT_TRUE(c.fast);
  EXPECT_NE(c.why.find("kvm-clock"), std::string::npos);
  EXPECT_EQ(choose_clock({"kvm-clock\n", flags, false}).path, ClockPath::kSyscall);
  EXPECT_FALSE(choose_clock({"kvm-clock\n", flags, false}).fast);
  EXPECT_STREQ(clock_path_name(ClockPath::kTsc), "tsc");
  EXPECT_STREQ(clock_path_name(ClockPath::kKernelVdso), "kernel-vdso");
  EXPECT_STREQ(clock_path_name(ClockPath::kSyscall), "syscall");
}

}  // namespace
}  // namespace emulator
