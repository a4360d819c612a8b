// The tree's virtual clocks: the per-clock maps --time/--offset/--rate/--freeze build, their
// inverses for deadlines and durations, the vvar fields, and the fold of a timekeeper clock.
#include "emulator/clock/time_transform.h"

#include <gtest/gtest.h>
#include <time.h>

#include "emulator/clock/timekeeper_math.h"
#include "vdso/clock_math.h"

namespace emulator {
namespace {

constexpr int64_t kNs = 1000000000;
constexpr int64_t k2038 = 2147483637 * kNs;  // 2038-01-19T03:13:57Z

ClockReadings start() {
  ClockReadings r;
  r.realtime = 1765000000 * kNs;
  r.monotonic = 5000 * kNs;
  r.monotonic_raw = 4999 * kNs;
  r.boottime = 5100 * kNs;
  r.tai = r.realtime + 37 * kNs;
  return r;
}

TEST(TimeTransform, IdentityWithoutAControl) {
  const ClockTransform t = ClockTransform::build(TimeControl{}, start());
  EXPECT_FALSE(t.active());
  for (int c : {0, 1, 4, 5, 6, 7, 11}) {
    EXPECT_FALSE(t.transforms(c));
    EXPECT_EQ(t.to_virtual(c, 123456789), 123456789);
    EXPECT_EQ(t.to_real(c, 123456789), 123456789);
  }
  EXPECT_EQ(t.description(), "");
}

TEST(TimeTransform, TimeMovesRealtimeAndTaiOnly) {
  TimeControl c;
  c.realtime_start_ns = k2038;
  const ClockReadings s = start();
  const ClockTransform t = ClockTransform::build(c, s);
  ASSERT_TRUE(t.active());
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME, s.realtime), k2038);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME, s.realtime + 3 * kNs), k2038 + 3 * kNs);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME_COARSE, s.realtime), k2038);
  EXPECT_EQ(t.to_virtual(CLOCK_TAI, s.tai), k2038 + 37 * kNs);  // TAI keeps its offset
  for (int clock : {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE,
                    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID}) {
    EXPECT_FALSE(t.transforms(clock)) << clock;
    EXPECT_FALSE(t.scales(clock)) << clock;
  }
  EXPECT_TRUE(t.transforms(CLOCK_REALTIME));
  EXPECT_FALSE(t.scales(CLOCK_REALTIME));
  // A virtual deadline maps back to the real instant.
  EXPECT_EQ(t.to_real(CLOCK_REALTIME, k2038 + 5 * kNs), s.realtime + 5 * kNs);
  EXPECT_EQ(t.real_duration(CLOCK_REALTIME, 7 * kNs), 7 * kNs);
  EXPECT_EQ(t.description(), "REALTIME from 2038-01-19T03:13:57Z");
}

TEST(TimeTransform, RateScalesEveryClockFromTheStart) {
  TimeControl c;
  c.rate = 10;
  const ClockReadings s = start();
  const ClockTransform t = ClockTransform::build(c, s);
  for (int clock : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
                    CLOCK_TAI, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE}) {
    EXPECT_TRUE(t.scales(clock)) << clock;
  }
  EXPECT_FALSE(t.transforms(CLOCK_PROCESS_CPUTIME_ID));
  // The clocks read their real values at the start, then run ten times as fast.
  EXPECT_EQ(t.to_virtual(CLOCK_MONOTONIC, s.monotonic), s.monotonic);
  EXPECT_EQ(t.to_virtual(CLOCK_MONOTONIC, s.monotonic + kNs), s.monotonic + 10 * kNs);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME, s.realtime + kNs / 2), s.realtime + 5 * kNs);
  // sleep 2 takes 0.2 s; a deadline 5 virtual seconds ahead comes 0.5 s from now.
  EXPECT_EQ(t.real_duration(CLOCK_MONOTONIC, 2 * kNs), kNs / 5);
  EXPECT_EQ(t.virtual_duration(CLOCK_MONOTONIC, kNs / 5), 2 * kNs);
  EXPECT_EQ(t.to_real(CLOCK_MONOTONIC, s.monotonic + 5 * kNs), s.monotonic + kNs / 2);
  // Inverse rounds up: at the returned real instant the virtual clock has reached the value.
  for (int64_t v : {int64_t{1}, int64_t{7}, int64_t{999999999}, 3 * kNs + 3}) {
    const int64_t r = *t.to_real(CLOCK_MONOTONIC, s.monotonic + v);
    EXPECT_GE(t.to_virtual(CLOCK_MONOTONIC, r), s.monotonic + v);
    EXPECT_LT(t.to_virtual(CLOCK_MONOTONIC, r - 1), s.monotonic + v);
  }
  EXPECT_DOUBLE_EQ(t.max_rate(), 10.0);
  EXPECT_EQ(t.description(), "every clock at rate 10");
}

TEST(TimeTransform, SlowRate) {
  TimeControl c;
  c.rate = 0.5;
  const ClockReadings s = start();
  const ClockTransform t = ClockTransform::build(c, s);
  EXPECT_EQ(t.to_virtual(CLOCK_MONOTONIC, s.monotonic + 2 * kNs), s.monotonic + kNs);
  EXPECT_EQ(t.real_duration(CLOCK_MONOTONIC, kNs), 2 * kNs);
  EXPECT_EQ(t.virtual_duration(CLOCK_MONOTONIC, 2 * kNs), kNs);
}

TEST(TimeTransform, FreezeHoldsRealtimeAndLetsMonotonicRun) {
  TimeControl c;
  c.freeze = true;
  c.realtime_start_ns = k2038;
  const ClockReadings s = start();
  const ClockTransform t = ClockTransform::build(c, s);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME, s.realtime), k2038);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME, s.realtime + 100 * kNs), k2038);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME_COARSE, s.realtime + 100 * kNs), k2038);
  EXPECT_EQ(t.to_virtual(CLOCK_MONOTONIC, s.monotonic + kNs), s.monotonic + kNs);
  // A frozen clock's future never comes; its past has come.
  EXPECT_EQ(t.to_real(CLOCK_REALTIME, k2038 + 1), std::nullopt);
  EXPECT_EQ(t.to_real(CLOCK_REALTIME, k2038), s.realtime);
  EXPECT_EQ(t.to_real(CLOCK_REALTIME, k2038 - kNs), s.realtime);
  // Relative waits on it last their own length.
  EXPECT_FALSE(t.scales(CLOCK_REALTIME));
  EXPECT_EQ(t.real_duration(CLOCK_REALTIME, kNs), kNs);
  EXPECT_EQ(t.description(), "REALTIME frozen at 2038-01-19T03:13:57Z");

  c.rate = 4;  // frozen wall clock, monotonic clocks at rate 4
  const ClockTransform u = ClockTransform::build(c, s);
  EXPECT_EQ(u.to_virtual(CLOCK_REALTIME, s.realtime + kNs), k2038);
  EXPECT_EQ(u.to_virtual(CLOCK_MONOTONIC, s.monotonic + kNs), s.monotonic + 4 * kNs);
  EXPECT_EQ(u.description(), "REALTIME frozen at 2038-01-19T03:13:57Z, the monotonic clocks at rate 4");
}

TEST(TimeTransform, OffsetShiftsRealtime) {
  TimeControl c;
  c.realtime_offset_ns = -36 * 3600 * kNs;
  const ClockReadings s = start();
  const ClockTransform t = ClockTransform::build(c, s);
  EXPECT_EQ(t.to_virtual(CLOCK_REALTIME, s.realtime + 1), s.realtime + 1 - 36 * 3600 * kNs);
  EXPECT_EQ(t.to_real(CLOCK_REALTIME, s.realtime), s.realtime + 36 * 3600 * kNs);
  EXPECT_NE(t.description().find("offset -129600 s"), std::string::npos) << t.description();
}

TEST(TimeTransform, PublishesTheVvarFields) {
  TimeControl c;
  c.realtime_start_ns = k2038;
  c.rate = 2;
  const ClockReadings s = start();
  const ClockTransform t = ClockTransform::build(c, s);
  vdso::TimeTransform out{};
  t.publish(out);
  EXPECT_EQ(out.rate_shift, ClockTransform::kRateShift);
  for (int clock : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE, CLOCK_BOOTTIME, CLOCK_TAI}) {
    const vdso::TransformParams p{out.rate_mult[clock], out.rate_shift, out.anchor_in[clock],
                                  out.anchor_out[clock]};
    for (int64_t x : {int64_t{0}, 3 * kNs + 17, 1000 * kNs})
      EXPECT_EQ(vdso::transform_ns(s.realtime + x, p), t.to_virtual(clock, s.realtime + x))
          << clock;
  }
  // CPU-time clocks: identity in the page too.
  const vdso::TransformParams cpu{out.rate_mult[CLOCK_PROCESS_CPUTIME_ID], out.rate_shift,
                                  out.anchor_in[CLOCK_PROCESS_CPUTIME_ID],
                                  out.anchor_out[CLOCK_PROCESS_CPUTIME_ID]};
  EXPECT_EQ(vdso::transform_ns(12345, cpu), 12345);
}

TEST(TimeTransform, FoldedClockReadsTheTransformOfTheRealClock) {
  namespace tk = timekeeping;
  const ClockReadings s = start();
  for (double rate : {1.0, 10.0, 0.25}) {
    for (bool freeze : {false, true}) {
      TimeControl c;
      c.realtime_start_ns = k2038;
      c.rate = rate;
      c.freeze = freeze;
      const ClockTransform t = ClockTransform::build(c, s);
      // A real REALTIME clock anchored half a second after the start, 2.5 ns per cycle.
      const auto ms = tk::mult_shift_for(0.4);
      const vdso::VvarClock real = tk::anchored(1000000, s.realtime + kNs / 2 + 7, ms);
      const vdso::VvarClock v = t.fold(CLOCK_REALTIME, real);
      EXPECT_LT(v.base_snsec, static_cast<uint64_t>(kNs) << v.shift);
      int64_t previous = 0;
      for (uint64_t cycles : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, uint64_t{2500000000}}) {
        const int64_t r = tk::ns_at(real, 1000000 + cycles);
        const int64_t expect = t.to_virtual(CLOCK_REALTIME, r);
        const int64_t got = tk::ns_at(v, 1000000 + cycles);
        EXPECT_NEAR(static_cast<double>(got), static_cast<double>(expect), 2.0 + rate)
            << "rate " << rate << " freeze " << freeze << " cycles " << cycles;
        EXPECT_GE(got, previous);
        previous = got;
      }
    }
  }
}

TEST(TimeTransform, FormatsUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(k2038), "2038-01-19T03:13:57Z");
  EXPECT_EQ(format_utc(k2038 + 500000000), "2038-01-19T03:13:57.5Z");
}

}  // namespace
}  // namespace emulator
