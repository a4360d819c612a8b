// The timekeeper's pure arithmetic: bracketed readings, rates, the vvar's mult/shift fixed
// point, and the re-anchoring that never moves a monotonic clock backwards. Reads no clock.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vdso/vvar.h"

namespace emulator::timekeeping {

// The fixed-point shift the timekeeper publishes: 2^-32 ns per cycle is 0.001 ppm at 2.6 GHz.
inline constexpr uint32_t kShift = 32;

// One reading of a kernel clock taken between two ordered TSC samples.
struct Bracket {
  uint64_t tsc_before = 0;
  uint64_t tsc_after = 0;
  int64_t ns = 0;  // the kernel clock's value, nanoseconds since its epoch

  uint64_t width() const { return tsc_after - tsc_before; }
  uint64_t tsc_mid() const { return tsc_before + width() / 2; }
};

// Calibration selection: the narrowest bracket (the first of equal ones), if it is no wider
// than max_width; the narrower the bracket, the less the TSC at the kernel's read is unknown.
std::optional<Bracket> narrowest(std::span<const Bracket> readings,
                                 uint64_t max_width = UINT64_MAX);

// Nanoseconds per cycle between two readings of one clock.
double rate_between(const Bracket& a, const Bracket& b);

// The kernel clock's value at `tsc`, extrapolated from a reading at `rate` ns per cycle.
int64_t predict_ns(const Bracket& reading, double rate, uint64_t tsc);

// A rate in the vvar's fixed point: ns = (cycles * mult) >> shift.
struct MultShift {
  uint64_t mult = 0;
  uint32_t shift = 0;
};
MultShift mult_shift_for(double ns_per_cycle, uint32_t shift = kShift);
double ns_per_cycle(const MultShift& ms);

// A vvar clock's exact value at `tsc` (TSC deltas clamped at zero, as readers do), in the
// clock's own fixed point: sec + snsec / 2^shift / 1e9.
struct ClockPoint {
  uint64_t sec = 0;
  uint64_t snsec = 0;
  uint32_t shift = 0;
};
ClockPoint point_at(const vdso::VvarClock& c, uint64_t tsc);
// What a reader returns at `tsc`, in nanoseconds.
int64_t ns_at(const vdso::VvarClock& c, uint64_t tsc);
int64_t ns_of(const ClockPoint& p);

// A clock worth `ns` at `tsc` (ns >= 0), advancing at `rate`.
vdso::VvarClock anchored(uint64_t tsc, int64_t ns, const MultShift& rate);
// A clock continuing exactly (sub-nanosecond part included) from `p` at `tsc`.
vdso::VvarClock continued(uint64_t tsc, const ClockPoint& p, const MultShift& rate);
// The clock that moves in lockstep with `c`, offset_ns ahead of it (REALTIME = MONOTONIC +
// offset); nullopt if that would be before its epoch.
std::optional<vdso::VvarClock> offset_clock(const vdso::VvarClock& c, int64_t offset_ns);

// The largest TSC delta readers may extrapolate: `wanted`, but small enough that
// base_snsec + delta * mult fits in 64 bits for a clock of rate `mult` (readers multiply in 64
// bits, as vvar.h promises them).
uint64_t safe_max_delta(uint64_t wanted, uint64_t mult, uint32_t shift);

struct SlewPolicy {
  double max_slew = 500e-6;        // largest rate correction, as a fraction (the kernel's adjtime)
  int64_t step_forward_ns = 1000;  // further behind than this: step forward instead of slewing
  uint64_t horizon_cycles = 1;     // remove the error over this many cycles
};

struct Reanchor {
  vdso::VvarClock clock;
  int64_t error_ns = 0;  // old formula minus target at the switch point (positive: ahead)
  bool stepped = false;
};

// The anti-backwards re-anchor of a monotonic clock at switch_tsc. The new formula's value at
// switch_tsc equals the old one's (slewing) or exceeds it (a forward step, only when the old
// one is behind the target by more than step_forward_ns); it never decreases; its rate is
// target_rate corrected (by at most max_slew) so as to reach the target over the horizon.
Reanchor reanchor(const vdso::VvarClock& old, uint64_t switch_tsc, int64_t target_ns,
                  double target_rate, const SlewPolicy& policy);

// The kernel's NTP-adjusted rate relative to its raw rate, from adjtimex's tick (microseconds
// per USER_HZ tick) and freq (ppm scaled by 2^16).
double ntp_ratio(long tick_usec, long freq);

// The nearest whole number of seconds (TAI - REALTIME is one, in the kernel).
int64_t round_to_seconds(int64_t ns);

int64_t median(std::vector<int64_t> values);

// A kernel clock's rate from the first and last of its recent readings: old readings drop out
// beyond max_span cycles; no estimate until the span reaches min_span cycles.
class RateWindow {
 public:
  RateWindow(uint64_t min_span, uint64_t max_span) : min_span_(min_span), max_span_(max_span) {}
  void push(const Bracket& reading);
  void reset() { readings_.clear(); }
  std::optional<double> rate() const;
  uint64_t span() const;

 private:
  uint64_t min_span_;
  uint64_t max_span_;
  std::deque<Bracket> readings_;
};

}  // namespace emulator::timekeeping
