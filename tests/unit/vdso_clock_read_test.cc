// Tests the vDSO's readers (vdso/clock_read.h) over a hand-made vvar: the clock formula, the
// fallbacks (not valid, stale, stuck mid-update), the clamp and the transform.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "vdso/abi.h"
#include "vdso/clock_math.h"
#include "vdso/clock_read.h"
#include "vdso/tsc.h"

namespace vdso {
namespace {

constexpr uint64_t kMult = uint64_t{1} << 31;  // half a nanosecond per cycle at shift 32

std::unique_ptr<Vvar> valid_page(uint64_t base_tsc) {
  auto v = std::make_unique<Vvar>();
  std::memset(v.get(), 0, sizeof(Vvar));
  v->magic = kVvarMagic;
  v->version = kVvarVersion;
  v->flags = kVvarClocksValid;
  v->max_delta_cycles = uint64_t{1} << 62;
  VvarClock& c = v->hres[kClockMonotonic];
  c.base_tsc = base_tsc;
  c.base_sec = 1000;
  c.base_snsec = uint64_t{999999990} << 32;  // 10 ns before second 1001
  c.mult = kMult;
  c.shift = 32;
  return v;
}

int64_t ns(const KernelTimespec& ts) {
  return ts.tv_sec * 1000000000 + ts.tv_nsec;
}

TEST(VdsoClockRead, HresFollowsTheTscFromItsAnchor) {
  const uint64_t start = rdtsc_ordered();
  auto v = valid_page(start);
  KernelTimespec ts{};
  const uint64_t before = rdtsc_ordered();
  ASSERT_TRUE(read_hres(v.get(), kClockMonotonic, &ts));
  const uint64_t after = rdtsc_ordered();
  const int64_t base = 1000999999990;
  EXPECT_GE(ns(ts), base + static_cast<int64_t>((before - start) / 2));
  EXPECT_LE(ns(ts), base + static_cast<int64_t>((after - start) / 2));
  EXPECT_LT(ts.tv_nsec, 1000000000);
}

TEST(VdsoClockRead, AnchorInTheFutureHoldsTheBaseValue) {
  auto v = valid_page(rdtsc_ordered() + (uint64_t{1} << 40));
  KernelTimespec ts{};
  ASSERT_TRUE(read_hres(v.get(), kClockMonotonic, &ts));
  EXPECT_EQ(ts.tv_sec, 1000);
  EXPECT_EQ(ts.tv_nsec, 999999990);
}

TEST(VdsoClockRead, NotValidPageAsksTheKernel) {
  auto v = valid_page(rdtsc_ordered());
  v->flags = 0;
  KernelTimespec ts{};
  EXPECT_FALSE(read_hres(v.get(), kClockMonotonic, &ts));
  KernelTimezone tz{};
  EXPECT_FALSE(read_timezone(v.get(), &tz));
}

TEST(VdsoClockRead, StaleAnchorBeyondMaxDeltaAsksTheKernel) {
  auto v = valid_page(rdtsc_ordered() - 1000000);
  v->max_delta_cycles = 1000;
  KernelTimespec ts{};
  EXPECT_FALSE(read_hres(v.get(), kClockMonotonic, &ts));
}

TEST(VdsoClockRead, CounterStuckOddGivesUpInsteadOfSpinning) {
  auto v = valid_page(rdtsc_ordered());
  v->seq = 7;
  KernelTimespec ts{};
  EXPECT_FALSE(read_hres(v.get(), kClockMonotonic, &ts));
  v->seq = 8;
  EXPECT_TRUE(read_hres(v.get(), kClockMonotonic, &ts));
}

TEST(VdsoClockRead, ClockAfterCarriesWholeSeconds) {
  // 2.5 s of cycles at 0.5 ns per cycle from 0.9 s: 3.4 s.
  const KernelTimespec ts =
      clock_after(0, uint64_t{900000000} << 32, kMult, 32, uint64_t{5000000000});
  EXPECT_EQ(ts.tv_sec, 3);
  EXPECT_EQ(ts.tv_nsec, 400000000);
  EXPECT_EQ(cycle_delta(100, 200), 0u);
  EXPECT_EQ(cycle_delta(200, 100), 100u);
}

TEST(VdsoClockRead, TransformAppliesToKernelAnswersOnly) {
  auto v = valid_page(rdtsc_ordered() + (uint64_t{1} << 40));  // hres reads exactly the base
  v->transform_enabled = 1;
  for (uint32_t id = 0; id < kClockSlots; ++id) v->transform.rate_mult[id] = uint64_t{1} << 32;
  v->transform.rate_shift = 32;
  v->transform.anchor_in[kClockMonotonic] = 0;
  v->transform.anchor_out[kClockMonotonic] = 3600000000000;  // one hour ahead
  // The supervisor publishes the hres clocks already transformed: readers leave them alone.
  KernelTimespec ts{};
  ASSERT_TRUE(read_hres(v.get(), kClockMonotonic, &ts));
  EXPECT_EQ(ts.tv_sec, 1000);
  EXPECT_EQ(ts.tv_nsec, 999999990);
  KernelTimespec fast{};
  EXPECT_FALSE(try_hres(v.get(), kClockMonotonic, &fast));  // TSC before the anchor: clamp path
  v = valid_page(rdtsc_ordered());
  v->transform_enabled = 1;
  EXPECT_TRUE(try_hres(v.get(), kClockMonotonic, &fast));  // a transform costs the fast path nothing

  // What the kernel answered is transformed, per clock.
  v->transform.rate_shift = 32;
  v->transform.rate_mult[kClockMonotonic] = uint64_t{1} << 32;
  v->transform.anchor_out[kClockMonotonic] = 3600000000000;
  v->transform.rate_mult[kClockRealtime] = 0;  // frozen
  v->transform.anchor_out[kClockRealtime] = 5000000001;
  KernelTimespec mono{10, 0};
  transform_fallback(v.get(), kClockMonotonic, &mono);
  EXPECT_EQ(mono.tv_sec, 3610);
  KernelTimespec real{123, 456};
  transform_fallback(v.get(), kClockRealtime, &real);
  EXPECT_EQ(real.tv_sec, 5);
  EXPECT_EQ(real.tv_nsec, 1);
  v->transform_enabled = 0;
  transform_fallback(v.get(), kClockMonotonic, &mono);
  EXPECT_EQ(mono.tv_sec, 3610);  // identity when disabled

  // Half speed from an anchor, and a negative result normalised.
  const TransformParams half{uint64_t{1} << 31, 32, 1000000000, 0};
  EXPECT_EQ(transform_ns(3000000000, half), 1000000000);
  const KernelTimespec neg = transform_timespec(KernelTimespec{0, 0}, half);
  EXPECT_EQ(neg.tv_sec, -1);
  EXPECT_EQ(neg.tv_nsec, 500000000);
}

TEST(VdsoClockRead, FastPathAgreesWithTheGeneralPath) {
  const uint64_t start = rdtsc_ordered();
  auto v = valid_page(start);
  KernelTimespec fast{}, general{};
  ASSERT_TRUE(try_hres(v.get(), kClockMonotonic, &fast));
  ASSERT_TRUE(read_hres(v.get(), kClockMonotonic, &general));
  EXPECT_LE(ns(fast), ns(general));
  EXPECT_GE(ns(fast), 1000999999990);
}

TEST(VdsoClockRead, FastPathDefersEverythingUnusual) {
  KernelTimespec ts{};
  auto v = valid_page(rdtsc_ordered());
  v->seq = 3;  // mid-update
  EXPECT_FALSE(try_hres(v.get(), kClockMonotonic, &ts));
  v = valid_page(rdtsc_ordered());
  v->flags = 0;
  EXPECT_FALSE(try_hres(v.get(), kClockMonotonic, &ts));
  v = valid_page(rdtsc_ordered() + (uint64_t{1} << 40));  // TSC before the anchor: clamp
  EXPECT_FALSE(try_hres(v.get(), kClockMonotonic, &ts));
  EXPECT_TRUE(read_hres(v.get(), kClockMonotonic, &ts));
  v = valid_page(rdtsc_ordered() - 1000000);
  v->max_delta_cycles = 1000;  // stale
  EXPECT_FALSE(try_hres(v.get(), kClockMonotonic, &ts));
}

TEST(VdsoClockRead, TimezoneIsCopied) {
  auto v = valid_page(rdtsc_ordered());
  v->tz_minuteswest = -60;
  v->tz_dsttime = 1;
  KernelTimezone tz{};
  ASSERT_TRUE(read_timezone(v.get(), &tz));
  EXPECT_EQ(tz.tz_minuteswest, -60);
  EXPECT_EQ(tz.tz_dsttime, 1);
}

}  // namespace
}  // namespace vdso
