// Tests the timekeeper's pure arithmetic: bracket selection, mult/shift, re-anchoring that
// never goes backwards, offsets, NTP ratio, the invariant-TSC decision and the rate window.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "emulator/clock/timekeeper_math.h"
#include "vdso/clock_math.h"

namespace emulator::timekeeping {
namespace {

constexpr double kRate = 1.0 / 2.6;  // ns per cycle of a 2.6 GHz TSC
constexpr uint64_t kSecond = 2600000000;

Bracket at(uint64_t before, uint64_t after, int64_t ns) {
  return Bracket{before, after, ns};
}

TEST(Timekeeping, NarrowestPicksTheSmallestBracket) {
  const std::vector<Bracket> r = {at(0, 90, 1), at(100, 160, 2), at(200, 260, 3), at(300, 500, 4)};
  const auto best = narrowest(r);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->ns, 2);  // the first of the two 60-cycle brackets
}

TEST(Timekeeping, NarrowestRejectsWhenAllAreTooWide) {
  const std::vector<Bracket> r = {at(0, 900, 1), at(1000, 1700, 2)};
  EXPECT_FALSE(narrowest(r, 500).has_value());
  EXPECT_TRUE(narrowest(r, 700).has_value());
}

TEST(Timekeeping, NarrowestIgnoresBackwardsTsc) {
  const std::vector<Bracket> r = {at(100, 50, 1), at(0, 80, 2)};
  EXPECT_EQ(narrowest(r)->ns, 2);
  EXPECT_FALSE(narrowest(std::vector<Bracket>{}).has_value());
}

TEST(Timekeeping, RateAndPredictionUseBracketMidpoints) {
  const Bracket a = at(1000, 1100, 5000);  // mid 1050
  const Bracket b = at(1000 + kSecond, 1100 + kSecond, 5000 + 1000000000);
  EXPECT_DOUBLE_EQ(rate_between(a, b), kRate);
  EXPECT_EQ(predict_ns(a, kRate, 1050 + 26), 5010);
  EXPECT_EQ(predict_ns(a, kRate, 1050 - 26), 4990);
}

TEST(Timekeeping, MultShiftConvertsOneSecondOfCyclesToOneSecond) {
  const MultShift ms = mult_shift_for(kRate);
  EXPECT_EQ(ms.shift, kShift);
  // Rounding mult to 2^-32 ns per cycle costs at most 0.5 / mult: 0.3 ppb at 2.6 GHz.
  EXPECT_NEAR(ns_per_cycle(ms) / kRate, 1.0, 0.5 / static_cast<double>(ms.mult));
  const vdso::VvarClock c = anchored(0, 0, ms);
  EXPECT_NEAR(static_cast<double>(ns_at(c, kSecond)), 1e9, 1.0);
  EXPECT_NEAR(static_cast<double>(ns_at(c, 3600 * kSecond)), 3600e9, 3600e9 * 0.5e-9);
}

TEST(Timekeeping, AnchoredClockReadsItsValueAndClampsEarlierTsc) {
  const vdso::VvarClock c = anchored(1000000, 1700000000123456789, mult_shift_for(kRate));
  EXPECT_EQ(ns_at(c, 1000000), 1700000000123456789);
  EXPECT_EQ(ns_at(c, 999000), 1700000000123456789);        // before the anchor: held, not earlier
  EXPECT_EQ(ns_at(c, 1000000 + 27), 1700000000123456799);  // 27 cycles: 10.38 ns
  EXPECT_EQ(c.base_sec, 1700000000u);
  EXPECT_EQ(c.base_snsec >> kShift, 123456789u);
}

TEST(Timekeeping, OffsetClockMovesInLockstep) {
  const vdso::VvarClock mono = anchored(5000, 123456789012, mult_shift_for(kRate * 1.00001));
  for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{999999999}, int64_t{-5},
                         int64_t{1700000000987654321}, int64_t{-123456789000}}) {
    const auto real = offset_clock(mono, offset);
    ASSERT_TRUE(real.has_value()) << offset;
    for (uint64_t tsc :
         {uint64_t{0}, uint64_t{5000}, uint64_t{5001}, uint64_t{77777777}, kSecond * 3 + 17}) {
      EXPECT_EQ(ns_at(*real, tsc) - ns_at(mono, tsc), offset) << offset << " at " << tsc;
    }
  }
  EXPECT_FALSE(offset_clock(mono, -200000000000).has_value());
}

TEST(Timekeeping, ReanchorKeepsTheValueWhenAheadAndSlowsDown) {
  const vdso::VvarClock old = anchored(0, 1000000000, mult_shift_for(kRate));
  const uint64_t sw = 26000000;  // 10 ms
  const int64_t old_value = ns_at(old, sw);
  const SlewPolicy policy{500e-6, 1000, 4 * 10400000};
  const Reanchor r = reanchor(old, sw, old_value - 300, kRate, policy);  // we are 300 ns ahead
  EXPECT_FALSE(r.stepped);
  EXPECT_EQ(r.error_ns, 300);
  EXPECT_EQ(ns_at(r.clock, sw), old_value);
  EXPECT_LT(ns_per_cycle({r.clock.mult, r.clock.shift}), kRate);
  // Over the horizon the excess is gone (to within rounding).
  const uint64_t later = sw + policy.horizon_cycles;
  EXPECT_NEAR(static_cast<double>(ns_at(r.clock, later) - (old_value - 300 + 16000000)), 0, 2);
}

TEST(Timekeeping, ReanchorSlewsUpWhenSlightlyBehind) {
  const vdso::VvarClock old = anchored(0, 5000000, mult_shift_for(kRate));
  const uint64_t sw = 2600000;
  const int64_t v = ns_at(old, sw);
  const Reanchor r = reanchor(old, sw, v + 400, kRate, SlewPolicy{500e-6, 1000, 2600000});
  EXPECT_FALSE(r.stepped);
  EXPECT_EQ(ns_at(r.clock, sw), v);
  EXPECT_GT(ns_per_cycle({r.clock.mult, r.clock.shift}), kRate);
}

TEST(Timekeeping, ReanchorStepsForwardOnlyWhenFarBehind) {
  const vdso::VvarClock old = anchored(0, 5000000, mult_shift_for(kRate));
  const uint64_t sw = 2600000;
  const int64_t v = ns_at(old, sw);
  const Reanchor r = reanchor(old, sw, v + 50000, kRate, SlewPolicy{500e-6, 1000, 2600000});
  EXPECT_TRUE(r.stepped);
  EXPECT_EQ(ns_at(r.clock, sw), v + 50000);
}

TEST(Timekeeping, ReanchorSlewIsClampedToTheMaximumRate) {
  const vdso::VvarClock old = anchored(0, 5000000, mult_shift_for(kRate));
  const uint64_t sw = 2600000;
  const int64_t v = ns_at(old, sw);
  const Reanchor r = reanchor(old, sw, v - 1000000, kRate, SlewPolicy{500e-6, 1000, 2600000});
  EXPECT_FALSE(r.stepped);  // a millisecond ahead: never stepped back
  EXPECT_NEAR(ns_per_cycle({r.clock.mult, r.clock.shift}) / kRate, 1 - 500e-6, 1e-9);
}

// Many noisy re-anchors with readers at every TSC around each switch, including readers that
// still hold the old formula up to the switch point: the clock never goes backwards.
TEST(Timekeeping, ReanchorSequenceNeverGoesBackwards) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 40);
  std::uniform_real_distribution<double> drift(-20e-6, 20e-6);
  const double true_rate = kRate * (1 + drift(rng));
  vdso::VvarClock clock = anchored(1000, 1000000, mult_shift_for(kRate));
  const SlewPolicy policy{500e-6, 1000, 4 * 10400000};
  int64_t last = ns_at(clock, 1000);
  uint64_t tsc = 1000;
  for (int update = 0; update < 2000; ++update) {
    const uint64_t sw = tsc + 10400000 + static_cast<uint64_t>(rng() % 200000);
    // Readers up to and at the switch point see the old formula.
    for (uint64_t t = tsc; t <= sw; t += 1 + rng() % 2000000) {
      const int64_t v = ns_at(clock, t);
      ASSERT_GE(v, last) << "update " << update;
      last = v;
    }
    const int64_t v_old = ns_at(clock, sw);
    ASSERT_GE(v_old, last);
    last = v_old;
    const int64_t target =
        1000000 + static_cast<int64_t>(static_cast<double>(sw - 1000) * true_rate + noise(rng));
    const Reanchor r = reanchor(clock, sw, target, true_rate, policy);
    clock = r.clock;
    // A reader just after the switch sees at least what the old formula gave at the switch.
    ASSERT_GE(ns_at(clock, sw), last);
    ASSERT_GE(ns_at(clock, sw + 1), last);
    tsc = sw;
  }
  // And it stayed on target: within noise of the true clock.
  const int64_t truth = 1000000 + static_cast<int64_t>(static_cast<double>(tsc - 1000) * true_rate);
  EXPECT_NEAR(static_cast<double>(ns_at(clock, tsc) - truth), 0, 200);
}

TEST(Timekeeping, SafeMaxDeltaKeepsTheReadersProductIn64Bits) {
  const MultShift ms = mult_shift_for(kRate);
  EXPECT_EQ(safe_max_delta(kSecond, ms.mult, kShift), kSecond);  // one second is far inside
  const uint64_t cap = safe_max_delta(UINT64_MAX, ms.mult, kShift);
  EXPECT_GT(cap, 3 * kSecond);
  // The largest base_snsec is one fixed-point unit short of a second.
  const vdso::u128 worst = (vdso::u128{1000000000} << kShift) - 1 + vdso::u128{cap} * ms.mult;
  EXPECT_LT(worst, vdso::u128{1} << 64);
  EXPECT_GE(worst + ms.mult + 1, vdso::u128{1} << 64);  // and one cycle more would not fit
}

TEST(Timekeeping, NtpRatioFollowsTickAndFreq) {
  EXPECT_DOUBLE_EQ(ntp_ratio(10000, 0), 1.0);
  EXPECT_NEAR(ntp_ratio(10000, 65536), 1.000001, 1e-12);
  EXPECT_NEAR(ntp_ratio(10000, -500 * 65536), 1 - 500e-6, 1e-12);
  EXPECT_NEAR(ntp_ratio(10001, 0), 1.0001, 1e-12);
}

TEST(Timekeeping, RoundToSecondsGoesToTheNearest) {
  EXPECT_EQ(round_to_seconds(37000000040), 37000000000);
  EXPECT_EQ(round_to_seconds(36999999960), 37000000000);
  EXPECT_EQ(round_to_seconds(-40), 0);
  EXPECT_EQ(round_to_seconds(-600000000), -1000000000);
}

TEST(Timekeeping, MedianOfOddAndEven) {
  EXPECT_EQ(median({5, 1, 3}), 3);
  EXPECT_EQ(median({9, 1, 7, 3}), 7);
  EXPECT_EQ(median({-2}), -2);
}

TEST(Timekeeping, RateWindowNeedsMinimumSpanAndForgetsOldReadings) {
  RateWindow w(kSecond / 10, kSecond);
  w.push(at(0, 0, 0));
  EXPECT_FALSE(w.rate().has_value());
  w.push(at(kSecond / 20, kSecond / 20, 50000000));
  EXPECT_FALSE(w.rate().has_value());  // 50 ms: too short
  w.push(at(kSecond / 5, kSecond / 5, 200000000));
  EXPECT_NEAR(*w.rate(), kRate, 1e-12);
  // Readings at a different rate push the old ones out of a one-second window.
  for (int i = 1; i <= 30; ++i) {
    const uint64_t t = kSecond / 5 + static_cast<uint64_t>(i) * kSecond / 10;
    w.push(at(t, t, 200000000 + static_cast<int64_t>(i) * 100100000));
  }
  EXPECT_LE(w.span(), kSecond);
  EXPECT_NEAR(*w.rate() / kRate, 1.001, 1e-9);
  w.reset();
  EXPECT_FALSE(w.rate().has_value());
}

}  // namespace
}  // namespace emulator::timekeeping
