#include "emulator/clock/time_transform.h"

#include <time.h>

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "vdso/abi.h"
#include "vdso/clock_math.h"

namespace emulator {
namespace {

constexpr int64_t kNs = 1000000000;
constexpr uint64_t kUnitRate = uint64_t{1} << ClockTransform::kRateShift;

std::string rate_text(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", rate);
  return buf;
}

}  // namespace

std::string format_utc(int64_t ns) {
  int64_t sec = ns / kNs;
  int64_t frac = ns % kNs;
  if (frac < 0) {
    frac += kNs;
    --sec;
  }
  const time_t t = static_cast<time_t>(sec);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) return std::string("@").append(std::to_string(sec));
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  out += 'Z';
  return out;
}

ClockTransform ClockTransform::build(const TimeControl& control, const ClockReadings& start) {
  ClockTransform t;
  if (!control.active()) return t;
  t.active_ = true;
  const uint64_t mult = static_cast<uint64_t>(std::llround(control.rate * static_cast<double>(kUnitRate)));
  auto running = [&](int64_t at) { return Map{at, at, mult}; };
  t.monotonic_ = running(start.monotonic);
  t.monotonic_raw_ = running(start.monotonic_raw);
  t.boottime_ = running(start.boottime);
  // REALTIME: where it starts, then frozen or at the rate. TAI keeps its offset to it.
  int64_t real_out = control.realtime_start_ns.value_or(start.realtime) + control.realtime_offset_ns;
  t.realtime_ = Map{start.realtime, real_out, control.freeze ? 0 : mult};
  t.tai_ = Map{start.tai, start.tai + (real_out - start.realtime), control.freeze ? 0 : mult};

  // Appended piece by piece: GCC 12's -Wrestrict misfires on chained operator+ (release build).
  std::string d;
  if (control.freeze) {
    d.append("REALTIME frozen at ").append(format_utc(real_out));
  } else if (control.realtime_start_ns || control.realtime_offset_ns != 0) {
    d.append("REALTIME from ").append(format_utc(real_out));
  }
  if (control.realtime_offset_ns != 0) {
    d.append(" (offset ").append(control.realtime_offset_ns > 0 ? "+" : "-");
    d.append(rate_text(std::fabs(static_cast<double>(control.realtime_offset_ns)) / 1e9));
    d.append(" s)");
  }
  if (control.rate != 1.0) {
    if (!d.empty()) d.append(", ");
    d.append(control.freeze ? "the monotonic clocks at rate " : "every clock at rate ");
    d.append(rate_text(control.rate));
  }
  t.description_ = d;
  return t;
}

const ClockTransform::Map* ClockTransform::map_of(int64_t clock) const {
  if (!active_) return nullptr;
  switch (clock) {
    case vdso::kClockRealtime:
    case vdso::kClockRealtimeCoarse:
    case 8:  // CLOCK_REALTIME_ALARM
      return &realtime_;
    case vdso::kClockMonotonic:
    case vdso::kClockMonotonicCoarse:
      return &monotonic_;
    case vdso::kClockMonotonicRaw:
      return &monotonic_raw_;
    case vdso::kClockBoottime:
    case 9:  // CLOCK_BOOTTIME_ALARM
      return &boottime_;
    case vdso::kClockTai:
      return &tai_;
    default:
      return nullptr;  // CPU-time clocks, dynamic (fd, pid) clocks, bad ids
  }
}

bool ClockTransform::transforms(int64_t clock) const {
  const Map* m = map_of(clock);
  return m != nullptr && (m->in != m->out || m->mult != kUnitRate);
}

uint32_t ClockTransform::clock_mask() const {
  uint32_t mask = 0;
  for (int64_t id = 0; id < 32; ++id)
    if (transforms(id)) mask |= uint32_t{1} << id;
  return mask;
}

bool ClockTransform::scales(int64_t clock) const {
  const Map* m = map_of(clock);
  return m != nullptr && m->mult != kUnitRate && m->mult != 0;
}

int64_t ClockTransform::to_virtual(int64_t clock, int64_t real_ns) const {
  const Map* m = map_of(clock);
  if (m == nullptr) return real_ns;
  return vdso::transform_ns(real_ns, vdso::TransformParams{m->mult, kRateShift, m->in, m->out});
}

std::optional<int64_t> ClockTransform::to_real(int64_t clock, int64_t virtual_ns) const {
  const Map* m = map_of(clock);
  if (m == nullptr) return virtual_ns;
  if (m->mult == 0) {
    if (virtual_ns <= m->out) return m->in;
    return std::nullopt;
  }
  // The first real instant whose virtual value is at least virtual_ns (round up).
  const vdso::s128 d = static_cast<vdso::s128>(virtual_ns - m->out) << kRateShift;
  const vdso::s128 mult = static_cast<vdso::s128>(m->mult);
  vdso::s128 q = d / mult;
  if (q * mult < d) ++q;
  const vdso::s128 r = static_cast<vdso::s128>(m->in) + q;
  if (r > INT64_MAX) return std::nullopt;
  if (r < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(r);
}

int64_t ClockTransform::real_duration(int64_t clock, int64_t virtual_ns) const {
  const Map* m = map_of(clock);
  if (m == nullptr || m->mult == 0 || m->mult == kUnitRate) return virtual_ns;
  const vdso::s128 d = static_cast<vdso::s128>(virtual_ns) << kRateShift;
  const vdso::s128 mult = static_cast<vdso::s128>(m->mult);
  vdso::s128 q = d / mult;
  if (q * mult < d) ++q;
  return q > INT64_MAX ? INT64_MAX : static_cast<int64_t>(q);
}

int64_t ClockTransform::virtual_duration(int64_t clock, int64_t real_ns) const {
  const Map* m = map_of(clock);
  if (m == nullptr || m->mult == 0 || m->mult == kUnitRate) return real_ns;
  const vdso::s128 v = (static_cast<vdso::s128>(real_ns) * m->mult) >> kRateShift;
  return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v);
}

void ClockTransform::publish(vdso::TimeTransform& out) const {
  vdso::vvar_store(out.rate_shift, kRateShift);
  for (uint32_t id = 0; id < vdso::kClockSlots; ++id) {
    const Map* m = map_of(id);
    const Map identity{};
    if (m == nullptr) m = &identity;
    vdso::vvar_store(out.rate_mult[id], m->mult);
    vdso::vvar_store(out.anchor_in[id], m->in);
    vdso::vvar_store(out.anchor_out[id], m->out);
  }
}

vdso::VvarClock ClockTransform::fold(int64_t clock, const vdso::VvarClock& real) const {
  const Map* m = map_of(clock);
  if (m == nullptr || (m->in == m->out && m->mult == kUnitRate)) return real;
  const uint32_t s = real.shift & 63;
  const vdso::s128 second = static_cast<vdso::s128>(kNs) << s;
  // The base instant and the anchors in the clock's fixed point (ns * 2^shift).
  const vdso::s128 x = static_cast<vdso::s128>(real.base_sec) * second + real.base_snsec;
  const vdso::s128 in = static_cast<vdso::s128>(m->in) << s;
  const vdso::s128 out = static_cast<vdso::s128>(m->out) << s;
  const vdso::s128 d = x - in;
  // (d * mult) >> kRateShift without overflowing for long runs: split d at 2^32. Arithmetic
  // shifts round toward minus infinity, as transform_ns does.
  const vdso::s128 hi = d >> kRateShift;
  const vdso::s128 lo = d - (hi << kRateShift);
  vdso::s128 y = out + hi * static_cast<vdso::s128>(m->mult) +
                 ((lo * static_cast<vdso::s128>(m->mult)) >> kRateShift);
  if (y < 0) y = 0;  // before the clock's epoch: hold at zero
  vdso::VvarClock v = real;
  v.base_sec = static_cast<uint64_t>(y / second);
  v.base_snsec = static_cast<uint64_t>(y % second);
  v.mult = static_cast<uint64_t>((static_cast<vdso::u128>(real.mult) * m->mult) >> kRateShift);
  return v;
}

double ClockTransform::max_rate() const {
  if (!active_) return 1.0;
  uint64_t most = kUnitRate;
  for (const Map* m : {&realtime_, &monotonic_, &monotonic_raw_, &boottime_, &tai_}) {
    most = std::max(most, m->mult);
  }
  return static_cast<double>(most) / static_cast<double>(kUnitRate);
}

}  // namespace emulator
