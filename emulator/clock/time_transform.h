// The tree's virtual clocks (--time, --offset, --rate, --freeze): one linear map per kernel
// clock from the real clock to what every program of the tree reads, fixed when vdsorun
// starts so that a child exec'd later shares its parent's timeline. Pure: the caller reads the
// real clocks once and hands them in; nothing here reads a clock or knows the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vdso/vvar.h"

namespace emulator {

// What the user asked of the tree's clocks.
struct TimeControl {
  // REALTIME starts at this instant (ns since the epoch; --time=WHEN, --freeze=WHEN).
  std::optional<int64_t> realtime_start_ns;
  // REALTIME shifted by this much (--offset).
  int64_t realtime_offset_ns = 0;
  // Every clock a program reads runs this many times as fast as the real one (--rate).
  double rate = 1.0;
  // REALTIME (and TAI, REALTIME_COARSE, REALTIME_ALARM) stands still; the monotonic clocks
  // run on (at `rate`), so that sleeps and timeouts still end (--freeze).
  bool freeze = false;

  bool active() const {
    return realtime_start_ns.has_value() || realtime_offset_ns != 0 || rate != 1.0 || freeze;
  }
};

// The real clocks at the instant the timeline starts (ns since each clock's epoch).
struct ClockReadings {
  int64_t realtime = 0;
  int64_t monotonic = 0;
  int64_t monotonic_raw = 0;
  int64_t boottime = 0;
  int64_t tai = 0;
};

class ClockTransform {
 public:
  // The fixed-point shift of the rate (vdso::TimeTransform::rate_shift).
  static constexpr uint32_t kRateShift = 32;
  // The fastest --rate accepted: (v - anchor) * mult stays far inside 128 bits, and
  // vdso::VvarClock::mult * rate inside 64.
  static constexpr double kMaxRate = 1000.0;

  ClockTransform() = default;  // identity: nothing transformed
  static ClockTransform build(const TimeControl& control, const ClockReadings& start);

  bool active() const { return active_; }
  // Whether `clock` (a kernel clock id) reads differently from the real one.
  bool transforms(int64_t clock) const;
  // A bit per clock id below 32 that transforms() (for the seccomp filter).
  uint32_t clock_mask() const;
  // Whether a relative wait on `clock` is shortened or stretched (rate other than 1).
  bool scales(int64_t clock) const;

  // What `clock` reads when the real clock reads `real_ns`.
  int64_t to_virtual(int64_t clock, int64_t real_ns) const;
  // The real value of `clock` when it reads `virtual_ns`: the deadline to hand the kernel for a
  // virtual one. nullopt when it never will (a frozen clock, an instant after the freeze); a
  // frozen clock's past instants map to the start (already reached).
  std::optional<int64_t> to_real(int64_t clock, int64_t virtual_ns) const;
  // A wait of `virtual_ns` of `clock`'s time lasts this long in real time, and back. A
  // frozen clock's waits last their own length (they measure nothing the program can see).
  int64_t real_duration(int64_t clock, int64_t virtual_ns) const;
  int64_t virtual_duration(int64_t clock, int64_t real_ns) const;

  // The vvar's transform fields (vdso::TimeTransform) for the injected vDSO's readers.
  void publish(vdso::TimeTransform& out) const;
  // A hres clock of the timekeeper's (real time) as readers must see it: the same instant
  // transformed, sub-nanosecond part included, advancing at mult * rate. Never earlier than
  // the transform of any instant of `real` at or before its base (so a re-anchored clock the
  // timekeeper made continuous stays continuous), and normalised (base_snsec < 1 s).
  vdso::VvarClock fold(int64_t clock, const vdso::VvarClock& real) const;
  // The largest rate factor any clock runs at (for the readers' overflow bound).
  double max_rate() const;

  // For the report: "REALTIME from 2038-01-19T03:13:57Z, every clock at rate 10".
  const std::string& description() const { return description_; }

 private:
  struct Map {
    int64_t in = 0;
    int64_t out = 0;
    uint64_t mult = uint64_t{1} << kRateShift;
  };
  const Map* map_of(int64_t clock) const;

  bool active_ = false;
  Map realtime_, monotonic_, monotonic_raw_, boottime_, tai_;
  std::string description_;
};

// "2038-01-19T03:13:57Z" (UTC, whole seconds; fractions printed when not zero).
std::string format_utc(int64_t ns);

}  // namespace emulator
