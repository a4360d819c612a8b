// The values an emulated vsyscall returns, taken from the host kernel for the calling thread,
// through the tree's time transform.
#pragma once

#include <sys/types.h>

#include "emulator/clock/time_transform.h"
#include "vdso/vvar.h"
#include "vsyscall/call.h"

namespace emulator {

class HostTimeSource : public vsyscall::TimeSource {
 public:
  // `transform` (may be null: identity) must outlive this object.
  explicit HostTimeSource(pid_t tid, const ClockTransform* transform = nullptr)
      : tid_(tid), transform_(transform) {}
  timespec realtime() override;
  timespec realtime_coarse() override;
  struct timezone timezone() override;
  // The CPU the (stopped) thread last ran on, from /proc/TID/stat.
  unsigned cpu() override;
  unsigned node() override;

 protected:
  // The kernel's `clock` at `ts`, as the tree reads it.
  timespec transformed(int clock, timespec ts) const;

 private:
  pid_t tid_;
  const ClockTransform* transform_;
  int cpu_ = -1;
};

// The clocks of the injected vDSO, read from the supervisor's mapping of the vvar the same way
// the vDSO reads it, so that an emulated gettimeofday/time agrees with vDSO calls around it.
// Falls back to the kernel whenever the vDSO would.
class VvarTimeSource final : public HostTimeSource {
 public:
  VvarTimeSource(pid_t tid, const vdso::Vvar* vvar, const ClockTransform* transform = nullptr)
      : HostTimeSource(tid, transform), vvar_(vvar) {}
  timespec realtime() override;
  // realtime_coarse() stays the kernel's own (HostTimeSource, transformed), as the injected
  // vDSO's is.
  struct timezone timezone() override;

 private:
  const vdso::Vvar* vvar_;
};

}  // namespace emulator
