// The values an emulated vsyscall returns, taken from the host kernel for the calling thread.
#pragma once

#include <sys/types.h>

#include "vdso/vvar.h"
#include "vsyscall/call.h"

namespace emulator {

class HostTimeSource : public vsyscall::TimeSource {
 public:
  explicit HostTimeSource(pid_t tid) : tid_(tid) {}
  timespec realtime() override;
  timespec realtime_coarse() override;
  struct timezone timezone() override;
  // The CPU the (stopped) thread last ran on, from /proc/TID/stat.
  unsigned cpu() override;
  unsigned node() override;

 private:
  pid_t tid_;
  int cpu_ = -1;
};

// The clocks of the injected vDSO, read from the supervisor's mapping of the vvar the same way
// the vDSO reads it, so that an emulated gettimeofday/time agrees with vDSO calls around it.
// Falls back to the kernel whenever the vDSO would.
class VvarTimeSource final : public HostTimeSource {
 public:
  VvarTimeSource(pid_t tid, const vdso::Vvar* vvar) : HostTimeSource(tid), vvar_(vvar) {}
  timespec realtime() override;
  // realtime_coarse() stays the kernel's own (HostTimeSource), as the injected vDSO's is.
  struct timezone timezone() override;

 private:
  const vdso::Vvar* vvar_;
};

}  // namespace emulator
