// The supervisor's timekeeper: a thread that calibrates the TSC against the kernel's clocks and
// keeps the vvar page current (the userspace twin of the kernel's update_vsyscall()), so that
// the injected vDSO's clocks stay within a microsecond of the kernel's without a monotonic
// clock ever going backwards.
#pragma once

#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "emulator/clock/clock_choice.h"
#include "emulator/clock/time_transform.h"
#include "emulator/own_thread.h"
#include "vdso/vvar.h"

namespace emulator {

struct TimekeeperOptions {
  // Time between vvar updates. Zero follows the kernel's tick (its coarse clocks' resolution),
  // clamped to [1 ms, 10 ms]; updates land just after the kernel's own so that the coarse
  // clocks trail the kernel's by a fraction of a millisecond.
  std::chrono::nanoseconds interval{0};
  // How long the first rate measurement runs before the page becomes valid.
  std::chrono::milliseconds calibration{20};
  // Never mark the page valid: every call goes to the kernel (tests, debugging).
  bool force_syscalls = false;
  // Use this getcpu method if it works on this machine (tests); otherwise the best that does.
  std::optional<vdso::GetcpuMethod> getcpu_method;
  // Where the kernel's clocks are read (tests substitute a shifted or slewed "kernel");
  // nullptr reads them with clock_gettime.
  int (*kernel_clock)(clockid_t, timespec*) = nullptr;
  // Called on the timekeeper thread, one line per state change (calibrated, not valid, a
  // REALTIME step followed...), for the caller's -v logging.
  std::function<void(std::string_view)> log;
  // Whether the programs have a kernel vDSO to fall back to (only changes what status() says).
  bool kernel_vdso = true;
  // What the machine says, substituted by tests to take the other paths of choose_clock();
  // empty reads /sys and /proc.
  std::optional<std::string> clocksource;
  std::optional<std::string> cpu_flags;
  // The tree's virtual clocks: published in the page for the readers' kernel answers, and
  // folded into every hres clock the timekeeper publishes. Identity by default.
  ClockTransform transform;
};

struct TimekeeperStats {
  uint64_t updates = 0;            // vvar updates published since calibration
  uint64_t rejected_readings = 0;  // clock readings whose TSC bracket was too wide
  uint64_t realtime_steps = 0;     // REALTIME (or TAI/BOOTTIME) offset changes followed
  uint64_t forward_steps = 0;      // monotonic clocks stepped forward instead of slewed
  uint64_t rate_kicks = 0;         // rate re-measurements forced by an unexpected drift
  int64_t last_error_ns = 0;       // MONOTONIC: our formula minus the kernel at the last update
  int64_t max_abs_error_ns = 0;    // the largest |last_error_ns| since calibration
  double tsc_hz = 0;               // the calibrated raw TSC rate
};

class Timekeeper {
 public:
  // Initialises `page` (getcpu method, clock_getres values, timezone; clocks not valid yet)
  // and starts the thread. `page` must stay mapped for the Timekeeper's lifetime.
  explicit Timekeeper(vdso::Vvar* page, TimekeeperOptions options = {});
  // Stops the thread, then marks the page not valid so that tracees outliving the supervisor
  // fall back to syscalls instead of reading a page nobody updates.
  ~Timekeeper();
  Timekeeper(const Timekeeper&) = delete;
  Timekeeper& operator=(const Timekeeper&) = delete;

  // One line for -v: "vvar valid: TSC 2.600 GHz, update every 4 ms, getcpu by rdpid",
  // "calibrating", or "vvar not valid, the vDSO makes syscalls: <why>".
  std::string status() const;
  bool valid() const;
  // The path choose_clock() last took (kSyscall until it has run).
  ClockPath path() const;
  // Waits until the page is valid (true), or until it is known it will not be or the timeout
  // passes (false).
  bool wait_until_valid(std::chrono::milliseconds timeout) const;
  TimekeeperStats stats() const;
  vdso::GetcpuMethod getcpu_method() const { return getcpu_method_; }
  std::chrono::nanoseconds interval() const { return interval_; }

 private:
  struct Engine;  // the thread's state, in timekeeper.cc

  enum class State { kCalibrating, kValid, kInvalid };
  void set_state(State state, const std::string& why);
  void set_path(ClockPath path);
  void record(const TimekeeperStats& stats);
  void run(std::stop_token stop);

  vdso::Vvar* page_;
  TimekeeperOptions options_;
  vdso::GetcpuMethod getcpu_method_;
  std::chrono::nanoseconds interval_;

  mutable std::mutex mutex_;
  mutable std::condition_variable state_changed_;
  State state_ = State::kCalibrating;
  ClockPath path_ = ClockPath::kSyscall;
  std::string why_;
  TimekeeperStats stats_;

  OwnThread thread_;  // last: started after everything above exists, joined first
};

}  // namespace emulator
