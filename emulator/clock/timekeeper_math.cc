// The timekeeper's pure arithmetic (see timekeeper_math.h).
#include "emulator/clock/timekeeper_math.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "vdso/abi.h"
#include "vdso/clock_math.h"

namespace emulator::timekeeping {
namespace {

constexpr int64_t kNs = static_cast<int64_t>(vdso::kNsPerSec);

vdso::u128 second_in_fixed_point(uint32_t shift) {
  return static_cast<vdso::u128>(vdso::kNsPerSec) << shift;
}

}  // namespace

std::optional<Bracket> narrowest(std::span<const Bracket> readings, uint64_t max_width) {
  const Bracket* best = nullptr;
  for (const Bracket& b : readings) {
    if (b.tsc_after < b.tsc_before) continue;  // the TSC went backwards: a migration, useless
    if (best == nullptr || b.width() < best->width()) best = &b;
  }
  if (best == nullptr || best->width() > max_width) return std::nullopt;
  return *best;
}

double rate_between(const Bracket& a, const Bracket& b) {
  const double cycles = static_cast<double>(static_cast<int64_t>(b.tsc_mid() - a.tsc_mid()));
  return static_cast<double>(b.ns - a.ns) / cycles;
}

int64_t predict_ns(const Bracket& reading, double rate, uint64_t tsc) {
  const double cycles = static_cast<double>(static_cast<int64_t>(tsc - reading.tsc_mid()));
  return reading.ns + std::llround(cycles * rate);
}

MultShift mult_shift_for(double ns_per_cycle, uint32_t shift) {
  assert(ns_per_cycle > 0 && shift < 64);
  return MultShift{static_cast<uint64_t>(std::llround(std::ldexp(ns_per_cycle, shift))), shift};
}

double ns_per_cycle(const MultShift& ms) {
  return std::ldexp(static_cast<double>(ms.mult), -static_cast<int>(ms.shift));
}

ClockPoint point_at(const vdso::VvarClock& c, uint64_t tsc) {
  const uint64_t delta = vdso::cycle_delta(tsc, c.base_tsc);
  const vdso::u128 scaled = static_cast<vdso::u128>(delta) * c.mult + c.base_snsec;
  const vdso::u128 second = second_in_fixed_point(c.shift);
  return ClockPoint{c.base_sec + static_cast<uint64_t>(scaled / second),
                    static_cast<uint64_t>(scaled % second), c.shift};
}

int64_t ns_of(const ClockPoint& p) {
  return static_cast<int64_t>(p.sec) * kNs + static_cast<int64_t>(p.snsec >> p.shift);
}

int64_t ns_at(const vdso::VvarClock& c, uint64_t tsc) {
  return ns_of(point_at(c, tsc));
}

vdso::VvarClock anchored(uint64_t tsc, int64_t ns, const MultShift& rate) {
  assert(ns >= 0);
  vdso::VvarClock c{};
  c.base_tsc = tsc;
  c.base_sec = static_cast<uint64_t>(ns / kNs);
  c.base_snsec = static_cast<uint64_t>(ns % kNs) << rate.shift;
  c.mult = rate.mult;
  c.shift = rate.shift;
  return c;
}

vdso::VvarClock continued(uint64_t tsc, const ClockPoint& p, const MultShift& rate) {
  assert(p.shift == rate.shift);
  vdso::VvarClock c{};
  c.base_tsc = tsc;
  c.base_sec = p.sec;
  c.base_snsec = p.snsec;
  c.mult = rate.mult;
  c.shift = rate.shift;
  return c;
}

std::optional<vdso::VvarClock> offset_clock(const vdso::VvarClock& c, int64_t offset_ns) {
  int64_t sec = static_cast<int64_t>(c.base_sec) + offset_ns / kNs;
  int64_t rem = offset_ns % kNs;
  if (rem < 0) {
    rem += kNs;
    --sec;
  }
  vdso::u128 snsec =
      static_cast<vdso::u128>(c.base_snsec) + (static_cast<vdso::u128>(rem) << c.shift);
  if (snsec >= second_in_fixed_point(c.shift)) {
    snsec -= second_in_fixed_point(c.shift);
    ++sec;
  }
  if (sec < 0) return std::nullopt;
  vdso::VvarClock out = c;
  out.base_sec = static_cast<uint64_t>(sec);
  out.base_snsec = static_cast<uint64_t>(snsec);
  return out;
}

uint64_t safe_max_delta(uint64_t wanted, uint64_t mult, uint32_t shift) {
  const vdso::u128 room = (static_cast<vdso::u128>(1) << 64) - 1 - second_in_fixed_point(shift);
  if (mult == 0) return wanted;
  return static_cast<uint64_t>(std::min<vdso::u128>(wanted, room / mult));
}

Reanchor reanchor(const vdso::VvarClock& old, uint64_t switch_tsc, int64_t target_ns,
                  double target_rate, const SlewPolicy& policy) {
  const ClockPoint at_switch = point_at(old, switch_tsc);
  const int64_t error = ns_of(at_switch) - target_ns;
  if (error < -policy.step_forward_ns) {
    return Reanchor{anchored(switch_tsc, target_ns, mult_shift_for(target_rate, old.shift)), error,
                    true};
  }
  const double horizon_ns = static_cast<double>(policy.horizon_cycles) * target_rate;
  const double correction =
      std::clamp(-static_cast<double>(error) / horizon_ns, -policy.max_slew, policy.max_slew);
  return Reanchor{
      continued(switch_tsc, at_switch, mult_shift_for(target_rate * (1 + correction), old.shift)),
      error, false};
}

double ntp_ratio(long tick_usec, long freq) {
  // ntp_update_frequency(): one second is tick_usec * 1000 * USER_HZ(100) ns plus freq's
  // ppm (scaled by 2^16) of a second.
  return (static_cast<double>(tick_usec) * 1e5 + static_cast<double>(freq) * 1e3 / 65536.0) / 1e9;
}

int64_t round_to_seconds(int64_t ns) {
  const int64_t half = kNs / 2;
  return (ns >= 0 ? (ns + half) / kNs : -((-ns + half) / kNs)) * kNs;
}

int64_t median(std::vector<int64_t> values) {
  assert(!values.empty());
  const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), mid, values.end());
  return *mid;
}

void RateWindow::push(const Bracket& reading) {
  readings_.push_back(reading);
  while (readings_.size() > 2 && readings_.back().tsc_mid() - readings_[1].tsc_mid() >= max_span_) {
    readings_.pop_front();
  }
}

uint64_t RateWindow::span() const {
  return readings_.size() < 2 ? 0 : readings_.back().tsc_mid() - readings_.front().tsc_mid();
}

std::optional<double> RateWindow::rate() const {
  if (span() < min_span_ || span() == 0) return std::nullopt;
  return rate_between(readings_.front(), readings_.back());
}

}  // namespace emulator::timekeeping
