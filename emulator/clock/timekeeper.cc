// The supervisor's timekeeper thread (see timekeeper.h).
#include "emulator/clock/timekeeper.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <vector>

#include "emulator/clock/timekeeper_math.h"
#include "emulator/clock/timekeeper_probe.h"
#include "emulator/clock/vvar_object.h"
#include "vdso/abi.h"
#include "vdso/tsc.h"

namespace emulator {
namespace {

namespace tk = timekeeping;

constexpr int64_t kNs = 1000000000;
// Readings per clock per update; the narrowest bracket is used.
constexpr int kTries = 5;
// A REALTIME/BOOTTIME offset change smaller than this is measurement noise, not a step.
constexpr int64_t kStepThresholdNs = 200;
// Wake this long after the kernel's tick is due, so its coarse clocks have moved.
constexpr int64_t kTickMarginNs = 200000;
// A MONOTONIC error before re-anchoring beyond this is no noise: the kernel's rate changed.
constexpr int64_t kRateKickNs = 100;
// Beyond this the kernel's clocks jumped relative to the TSC: recalibrate from scratch.
constexpr int64_t kDiscontinuityNs = 1000000;
// Updates between two looks at the kernel's NTP state.
constexpr int kNtpCheckEvery = 25;
// Supervisor silence after which readers ask the kernel instead.
constexpr double kMaxDeltaSeconds = 1.0;

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * kNs + ts.tv_nsec;
}

int64_t now_ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return to_ns(ts);
}

using KernelClock = int (*)(clockid_t, timespec*);

tk::Bracket read_clock(KernelClock kernel_clock, clockid_t id) {
  tk::Bracket b;
  timespec ts;
  b.tsc_before = vdso::rdtsc_ordered();
  kernel_clock(id, &ts);
  b.tsc_after = vdso::rdtsc_ordered();
  b.ns = to_ns(ts);
  return b;
}

std::optional<tk::Bracket> best_reading(KernelClock kernel_clock, clockid_t id, int tries,
                                        uint64_t max_width, uint64_t* rejected) {
  std::array<tk::Bracket, 16> readings;
  tries = std::min<int>(tries, static_cast<int>(readings.size()));
  for (int i = 0; i < tries; ++i) readings[i] = read_clock(kernel_clock, id);
  auto best = tk::narrowest(std::span(readings.data(), static_cast<size_t>(tries)), max_width);
  if (!best && rejected != nullptr) ++*rejected;
  return best;
}

std::chrono::nanoseconds default_interval() {
  timespec res{};
  int64_t tick = 4000000;
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && to_ns(res) > 0) tick = to_ns(res);
  return std::chrono::nanoseconds(std::clamp<int64_t>(tick, 1000000, 10000000));
}

void store_clock(vdso::VvarClock& dst, const vdso::VvarClock& src) {
  vdso::vvar_store(dst.base_tsc, src.base_tsc);
  vdso::vvar_store(dst.base_sec, src.base_sec);
  vdso::vvar_store(dst.base_snsec, src.base_snsec);
  vdso::vvar_store(dst.mult, src.mult);
  vdso::vvar_store(dst.shift, src.shift);
}

// Sleeps until CLOCK_MONOTONIC reaches `deadline_ns` or a stop is requested; false on stop.
bool sleep_until(int64_t deadline_ns, std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  const std::chrono::steady_clock::time_point deadline{std::chrono::nanoseconds(deadline_ns)};
  cv.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

struct NtpState {
  long tick = 0;
  long freq = 0;
  int status = 0;
  bool operator==(const NtpState&) const = default;
};

NtpState ntp_state() {
  timex tx{};
  adjtimex(&tx);
  // Only what changes the rate: the PLL/FLL bits and the frequency settings.
  return NtpState{tx.tick, tx.freq, tx.status & (STA_PLL | STA_FLL | STA_FREQHOLD | STA_PPSFREQ)};
}

}  // namespace

// Everything the timekeeper thread owns between updates.
struct Timekeeper::Engine {
  Engine(vdso::Vvar* page, std::chrono::nanoseconds interval, KernelClock kernel_clock,
         const std::function<void(std::string_view)>& log, const ClockTransform& transform)
      : page(page),
        interval_ns(interval.count()),
        kernel_clock(kernel_clock),
        log(log),
        transform(transform) {}

  vdso::Vvar* page;
  int64_t interval_ns;
  KernelClock kernel_clock;
  const std::function<void(std::string_view)>& log;
  const ClockTransform& transform;

  uint64_t accept_width = 0;  // cycles; wider brackets were disturbed
  double mono_rate = 0;       // ns per cycle of the kernel's NTP-adjusted clocks
  double raw_rate = 0;        // ns per cycle of CLOCK_MONOTONIC_RAW
  std::optional<tk::RateWindow> mono_window;
  std::optional<tk::RateWindow> raw_window;
  NtpState ntp;
  vdso::VvarClock mono{};
  vdso::VvarClock raw{};
  int64_t offs_real = 0;  // REALTIME - MONOTONIC
  int64_t offs_boot = 0;  // BOOTTIME - MONOTONIC
  int64_t offs_tai = 0;   // TAI - REALTIME (whole seconds)
  int64_t coarse_mono_ns = 0;
  uint64_t mono_anchor_tsc = 0;   // where MONOTONIC was last re-anchored
  int64_t mono_anchor_error = 0;  // and its error there (the new formula continues from it)
  int updates_since_ntp = 0;
  TimekeeperStats stats;

  void say(const std::string& line) const {
    if (log) log(line);
  }

  // `clock` minus the MONOTONIC prediction at the same TSC; both readings go through the same
  // code path, so the unknown position of the kernel's TSC read inside a bracket cancels out.
  std::optional<int64_t> offset_once(clockid_t clock) {
    const auto m = best_reading(kernel_clock, CLOCK_MONOTONIC, kTries, accept_width, nullptr);
    const auto c = best_reading(kernel_clock, clock, kTries, accept_width, nullptr);
    if (!m || !c) return std::nullopt;
    return c->ns - tk::predict_ns(*m, mono_rate, c->tsc_mid());
  }

  std::optional<int64_t> offset_median(clockid_t clock, int n) {
    std::vector<int64_t> values;
    for (int i = 0; i < n; ++i) {
      if (auto v = offset_once(clock)) values.push_back(*v);
    }
    if (values.size() < static_cast<size_t>(n / 2 + 1)) return std::nullopt;
    return tk::median(std::move(values));
  }

  bool calibrate(std::stop_token& stop, std::chrono::milliseconds period) {
    std::array<tk::Bracket, 64> probe;
    for (auto& b : probe) b = read_clock(kernel_clock, CLOCK_MONOTONIC);
    const auto narrow = tk::narrowest(probe);
    if (!narrow) return false;
    // An interrupt or a preemption inside a bracket makes it microseconds wide; a cache miss
    // does not double it.
    accept_width = 2 * narrow->width() + 64;

    const auto mono0 = best_reading(kernel_clock, CLOCK_MONOTONIC, 9, accept_width, nullptr);
    const auto raw0 = best_reading(kernel_clock, CLOCK_MONOTONIC_RAW, 9, accept_width, nullptr);
    if (!sleep_until(now_ns(CLOCK_MONOTONIC) + period.count() * 1000000, stop)) return false;
    const auto mono1 = best_reading(kernel_clock, CLOCK_MONOTONIC, 9, accept_width, nullptr);
    const auto raw1 = best_reading(kernel_clock, CLOCK_MONOTONIC_RAW, 9, accept_width, nullptr);
    if (!mono0 || !raw0 || !mono1 || !raw1) return false;
    mono_rate = tk::rate_between(*mono0, *mono1);
    raw_rate = tk::rate_between(*raw0, *raw1);
    if (!(mono_rate > 0.001 && mono_rate < 1000 && raw_rate > 0.001 && raw_rate < 1000)) {
      return false;
    }
    const auto real = offset_median(CLOCK_REALTIME, 9);
    const auto boot = offset_median(CLOCK_BOOTTIME, 9);
    const auto tai = offset_median(CLOCK_TAI, 9);
    if (!real || !boot || !tai) return false;
    offs_real = *real;
    offs_boot = *boot;
    offs_tai = tk::round_to_seconds(*tai - offs_real);

    const uint64_t second = static_cast<uint64_t>(1e9 / raw_rate);
    mono_window.emplace(second / 10, 2 * second);
    raw_window.emplace(second / 10, 60 * second);
    mono_window->push(*mono0);
    mono_window->push(*mono1);
    raw_window->push(*raw0);
    raw_window->push(*raw1);
    ntp = ntp_state();
    mono = tk::anchored(mono1->tsc_mid(), mono1->ns, tk::mult_shift_for(mono_rate));
    raw = tk::anchored(raw1->tsc_mid(), raw1->ns, tk::mult_shift_for(raw_rate));
    stats.tsc_hz = 1e9 / raw_rate;
    publish(mono1, raw1);
    return true;
  }

  // Follows a change of one offset if a careful re-measurement confirms it.
  void follow_offset(clockid_t clock, int64_t& offset, const char* name, bool only_forward) {
    const auto quick = offset_once(clock);
    if (!quick || std::abs(*quick - offset) <= kStepThresholdNs) return;
    const auto careful = offset_median(clock, 7);
    if (!careful || std::abs(*careful - offset) <= kStepThresholdNs / 2) return;
    if (only_forward && *careful < offset) return;
    say(std::string("vvar: following a step of ") + name + " by " +
        std::to_string(*careful - offset) + " ns");
    offset = *careful;
    ++stats.realtime_steps;
  }

  // False if the kernel's clocks jumped relative to the TSC (a suspend, a TSC reset): the
  // caller recalibrates.
  bool update() {
    const auto mono_reading =
        best_reading(kernel_clock, CLOCK_MONOTONIC, kTries, accept_width, &stats.rejected_readings);
    const auto raw_reading = best_reading(kernel_clock, CLOCK_MONOTONIC_RAW, kTries, accept_width,
                                          &stats.rejected_readings);
    // adjtimex is not free (it feeds the entropy pool): ask every few updates; a frequency
    // change goes unnoticed for at most ~100 ms, and NTP daemons change it by < 1 ppm.
    const NtpState now_ntp = ++updates_since_ntp >= kNtpCheckEvery ? ntp_state() : ntp;
    if (updates_since_ntp >= kNtpCheckEvery) updates_since_ntp = 0;
    if (!(now_ntp == ntp)) {
      // The kernel's frequency changed: forget the old rate, predict the new one from it.
      mono_rate *= tk::ntp_ratio(now_ntp.tick, now_ntp.freq) / tk::ntp_ratio(ntp.tick, ntp.freq);
      mono_window->reset();
      ntp = now_ntp;
      say("vvar: the kernel's NTP frequency changed; re-measuring the clock rate");
    }
    if (mono_reading) {
      const int64_t error = tk::ns_at(mono, mono_reading->tsc_mid()) - mono_reading->ns;
      if (std::abs(error) > kDiscontinuityNs) {
        say("vvar: MONOTONIC is " + std::to_string(error) + " ns off the kernel's: recalibrating");
        return false;
      }
      if (mono_anchor_tsc != 0) {
        // Since the last re-anchor the error should have moved by (published slope - estimated
        // kernel rate) * cycles. More than that means the kernel's rate changed without
        // adjtimex's tick/freq saying so (an adjtime() slew, the kernel PLL): correct the rate
        // by what the drift shows and start measuring it afresh.
        const double cycles = static_cast<double>(mono_reading->tsc_mid() - mono_anchor_tsc);
        const double slope = tk::ns_per_cycle({mono.mult, mono.shift});
        const double unexpected =
            static_cast<double>(error - mono_anchor_error) - (slope - mono_rate) * cycles;
        if (std::abs(unexpected) > static_cast<double>(kRateKickNs)) {
          mono_rate -= unexpected / cycles;
          mono_window->reset();
          ++stats.rate_kicks;
        }
      }
      mono_window->push(*mono_reading);
      if (auto r = mono_window->rate()) mono_rate = *r;
    }
    if (raw_reading) {
      raw_window->push(*raw_reading);
      if (auto r = raw_window->rate()) raw_rate = *r;
    }
    follow_offset(CLOCK_REALTIME, offs_real, "CLOCK_REALTIME", false);
    follow_offset(CLOCK_BOOTTIME, offs_boot, "CLOCK_BOOTTIME", true);
    if (const auto tai = offset_once(CLOCK_TAI)) {
      const int64_t seconds = tk::round_to_seconds(*tai - offs_real);
      if (seconds != offs_tai) {
        say("vvar: the TAI offset changed to " + std::to_string(seconds / kNs) + " s");
        offs_tai = seconds;
        ++stats.realtime_steps;
      }
    }
    publish(mono_reading, raw_reading);
    return true;
  }

  void publish(const std::optional<tk::Bracket>& mono_reading,
               const std::optional<tk::Bracket>& raw_reading) {
    // The kernel's tick, on which the next update is scheduled (next_deadline).
    timespec mono_coarse;
    kernel_clock(CLOCK_MONOTONIC_COARSE, &mono_coarse);
    coarse_mono_ns = to_ns(mono_coarse);
    // glibc's gettimeofday() no longer reports the kernel's timezone: ask the kernel.
    struct timezone tz {};
    syscall(SYS_gettimeofday, nullptr, &tz);

    const tk::SlewPolicy policy{
        500e-6, 1000, static_cast<uint64_t>(4.0 * static_cast<double>(interval_ns) / raw_rate)};
    VvarWriteSection section(page);
    // Sampled after the counter went odd (and a full fence): readers still using the old formula
    // sampled their TSC before about this point, so continuity here is what monotonicity needs.
    const uint64_t switch_tsc = vdso::rdtsc_ordered();
    if (mono_reading) {
      const auto r =
          tk::reanchor(mono, switch_tsc, tk::predict_ns(*mono_reading, mono_rate, switch_tsc),
                       mono_rate, policy);
      mono = r.clock;
      mono_anchor_tsc = switch_tsc;
      mono_anchor_error = r.stepped ? 0 : r.error_ns;
      stats.last_error_ns = r.error_ns;
      stats.max_abs_error_ns = std::max(stats.max_abs_error_ns, std::abs(r.error_ns));
      if (r.stepped) ++stats.forward_steps;
    }
    if (raw_reading) {
      const auto r = tk::reanchor(
          raw, switch_tsc, tk::predict_ns(*raw_reading, raw_rate, switch_tsc), raw_rate, policy);
      raw = r.clock;
      if (r.stepped) ++stats.forward_steps;
    }
    const auto real = tk::offset_clock(mono, offs_real);
    const auto boot = tk::offset_clock(mono, offs_boot);
    const auto tai = tk::offset_clock(mono, offs_real + offs_tai);
    if (!real || !boot || !tai) {
      // A clock set before its epoch: nothing sensible to compute; let the kernel answer.
      vdso::vvar_store(page->flags, 0u);
      return;
    }
    // What the readers see: the tree's virtual clocks (identity without a transform).
    const auto mono_v = transform.fold(vdso::kClockMonotonic, mono);
    const auto raw_v = transform.fold(vdso::kClockMonotonicRaw, raw);
    store_clock(page->hres[vdso::kClockMonotonic], mono_v);
    store_clock(page->hres[vdso::kClockMonotonicRaw], raw_v);
    store_clock(page->hres[vdso::kClockRealtime], transform.fold(vdso::kClockRealtime, *real));
    store_clock(page->hres[vdso::kClockBoottime], transform.fold(vdso::kClockBoottime, *boot));
    store_clock(page->hres[vdso::kClockTai], transform.fold(vdso::kClockTai, *tai));
    vdso::vvar_store(page->tz_minuteswest, static_cast<int32_t>(tz.tz_minuteswest));
    vdso::vvar_store(page->tz_dsttime, static_cast<int32_t>(tz.tz_dsttime));
    // Readers multiply in 64 bits: keep the extrapolation inside what fits (vvar.h).
    const uint64_t wanted = static_cast<uint64_t>(kMaxDeltaSeconds * 1e9 / raw_rate);
    vdso::vvar_store(page->max_delta_cycles,
                     tk::safe_max_delta(wanted, std::max(mono_v.mult, raw_v.mult), mono.shift));
    vdso::vvar_store(page->flags, vdso::kVvarClocksValid);
    ++stats.updates;
  }

  void invalidate() {
    VvarWriteSection section(page);
    vdso::vvar_store(page->flags, 0u);
  }

  // Just after the kernel's next tick (on its coarse clock's grid), never in the past.
  int64_t next_deadline() const {
    const int64_t now = now_ns(CLOCK_MONOTONIC);
    int64_t next = coarse_mono_ns + interval_ns + kTickMarginNs;
    if (next <= now) next += ((now - next) / interval_ns + 1) * interval_ns;
    return next;
  }
};

Timekeeper::Timekeeper(vdso::Vvar* page, TimekeeperOptions options)
    : page_(page),
      options_(std::move(options)),
      getcpu_method_(choose_getcpu_method(options_.getcpu_method)),
      interval_(options_.interval.count() > 0 ? options_.interval : default_interval()) {
  {
    VvarWriteSection section(page_);
    vdso::vvar_store(page_->magic, vdso::kVvarMagic);
    vdso::vvar_store(page_->version, vdso::kVvarVersion);
    vdso::vvar_store(page_->flags, 0u);
    vdso::vvar_store(page_->getcpu_method, static_cast<uint32_t>(getcpu_method_));
    for (uint32_t id = 0; id < vdso::kClockSlots; ++id) {
      int64_t ns = 0;
      timespec res{};
      if (((vdso::kHresClockMask | vdso::kCoarseClockMask) >> id & 1) &&
          syscall(SYS_clock_getres, id, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0) {
        ns = res.tv_nsec;
      }
      vdso::vvar_store(page_->res_ns[id], ns);
    }
    options_.transform.publish(page_->transform);
    vdso::vvar_store(page_->transform_enabled, options_.transform.active() ? 1u : 0u);
  }
  thread_.start([this](std::stop_token stop) { run(stop); });
}

Timekeeper::~Timekeeper() {
  thread_.request_stop();
  thread_.join();
  VvarWriteSection section(page_);
  vdso::vvar_store(page_->flags, 0u);
}

void Timekeeper::set_state(State state, const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (state_ == state && why_ == why) return;
    state_ = state;
    why_ = why;
  }
  state_changed_.notify_all();
  if (options_.log) options_.log(status());
}

void Timekeeper::set_path(ClockPath path) {
  std::lock_guard lock(mutex_);
  path_ = path;
}

ClockPath Timekeeper::path() const {
  std::lock_guard lock(mutex_);
  return path_;
}

void Timekeeper::record(const TimekeeperStats& stats) {
  std::lock_guard lock(mutex_);
  stats_ = stats;
}

std::string Timekeeper::status() const {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::kCalibrating:
      return "vvar: calibrating the TSC; the vDSO asks the kernel meanwhile";
    case State::kValid: {
      char line[160];
      std::snprintf(line, sizeof line,
                    "vvar valid: TSC %.6f GHz, update every %.3f ms, getcpu by %s; ",
                    stats_.tsc_hz / 1e9, static_cast<double>(interval_.count()) / 1e6,
                    getcpu_method_name(getcpu_method_));
      return line + why_;
    }
    case State::kInvalid:
      return "vvar not valid: " + why_;
  }
  return {};
}

bool Timekeeper::valid() const {
  std::lock_guard lock(mutex_);
  return state_ == State::kValid;
}

bool Timekeeper::wait_until_valid(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  state_changed_.wait_for(lock, timeout, [this] { return state_ != State::kCalibrating; });
  return state_ == State::kValid;
}

TimekeeperStats Timekeeper::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Timekeeper::run(std::stop_token stop) {
  // Process-directed signals are the engine's business, never this thread's.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);

  if (options_.force_syscalls) {
    set_state(State::kInvalid, "syscalls were asked for");
    return;
  }
  Engine engine(page_, interval_,
                options_.kernel_clock != nullptr ? options_.kernel_clock : &::clock_gettime,
                options_.log, options_.transform);
  // The CPU's TSC flags are fixed; only the clocksource can change (the kernel's watchdog).
  const std::string flags = options_.cpu_flags ? *options_.cpu_flags : cpu_flags();
  auto choose = [&] {
    const std::string cs = options_.clocksource ? *options_.clocksource : current_clocksource();
    return choose_clock(ClockFacts{cs, flags, options_.kernel_vdso});
  };
  while (!stop.stop_requested()) {
    const ClockChoice choice = choose();
    set_path(choice.path);
    if (choice.path != ClockPath::kTsc) {
      engine.invalidate();
      set_state(State::kInvalid, choice.why);
      // The clocksource may come back (the kernel's watchdog can switch it either way).
      if (!sleep_until(now_ns(CLOCK_MONOTONIC) + kNs, stop)) return;
      continue;
    }
    if (!engine.calibrate(stop, options_.calibration)) continue;
    record(engine.stats);
    set_state(State::kValid, choice.why);
    int64_t next_check = now_ns(CLOCK_MONOTONIC) + kNs;
    while (sleep_until(engine.next_deadline(), stop)) {
      const bool ok = engine.update();
      record(engine.stats);
      if (!ok) {
        // Readers must not extrapolate a formula known to be off while we recalibrate.
        engine.invalidate();
        set_state(State::kCalibrating, "");
        break;
      }
      if (now_ns(CLOCK_MONOTONIC) >= next_check) {
        next_check += kNs;
        if (choose().path != ClockPath::kTsc) break;
      }
    }
  }
}

}  // namespace emulator
