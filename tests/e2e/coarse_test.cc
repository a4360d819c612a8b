// CLOCK_REALTIME_COARSE and CLOCK_MONOTONIC_COARSE against the kernel's own, sampled between
// two syscalls for half a second. The kernel's vDSO reads the very value the syscall returns,
// and vdsorun's vDSO reads the kernel's vDSO for them: neither may ever be behind or ahead.
#include <gtest/gtest.h>

#include <algorithm>

#include "e2e_support.h"

namespace e2e {
namespace {

std::vector<Record> sample(Vdso v, std::string* all) {
  RunSpec spec;
  spec.vdso = v;
  const Outcome r = run({program("coarse_lag"), "0.5"}, spec);
  EXPECT_TRUE(r.result.exited && r.result.exit_code == 0) << r.command << "\n"
                                                          << r.result.describe();
  *all = r.result.out;
  return records_of(parse_records(r.result.out), "coarse");
}

TEST(CoarseClocks, KernelVdsoEqualsTheSyscall) {
  std::string out;
  const auto coarse = sample(Vdso::kDirect, &out);
  ASSERT_EQ(coarse.size(), 2u) << out;
  for (const Record& c : coarse) {
    EXPECT_GT(c.num("samples"), 0) << c.line;
    EXPECT_EQ(c.num("behind"), 0) << c.line;
    EXPECT_EQ(c.num("ahead"), 0) << c.line;
  }
}

// One half-second sample of the injected coarse clocks, shared by the two tests below.
const std::vector<Record>& injected_sample(std::string* out) {
  static std::string all;
  static const std::vector<Record> coarse = sample(Vdso::kInject, &all);
  *out = all;
  return coarse;
}

// A coarse value is a copy of one the kernel had: it may be old, never from the future.
TEST(CoarseClocks, InjectedNeverLeadTheKernels) {
  std::string out;
  const auto& coarse = injected_sample(&out);
  ASSERT_EQ(coarse.size(), 2u) << out;
  ASSERT_EQ(out.find("fast_path after_ms=never"), std::string::npos)
      << "the injected vDSO never served the clocks without a syscall\n"
      << out;
  for (const Record& c : coarse) {
    EXPECT_GT(c.num("samples"), 0) << c.line;
    EXPECT_EQ(c.num("ahead"), 0) << c.line;
  }
}

TEST(CoarseClocks, InjectedEqualTheKernels) {
  std::string out;
  const auto& coarse = injected_sample(&out);
  ASSERT_EQ(coarse.size(), 2u) << out;
  std::printf("%s", out.c_str());
  std::string lag;
  for (const Record& c : coarse) {
    if (c.num("behind") == 0) continue;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s behind the kernel's in %lld of %lld reads (%.1f%%), by up to %.1f ticks; ",
                  c.at("clock").c_str(), static_cast<long long>(c.num("behind")),
                  static_cast<long long>(c.num("samples")),
                  100.0 * static_cast<double>(c.num("behind")) /
                      static_cast<double>(std::max<int64_t>(1, c.num("samples"))),
                  static_cast<double>(c.num("max_behind_ns")) /
                      static_cast<double>(std::max<int64_t>(1, c.num("tick_ns"))));
    lag += buf;
  }
  EXPECT_TRUE(lag.empty()) << "coarse clocks: " << lag;
}

}  // namespace
}  // namespace e2e
