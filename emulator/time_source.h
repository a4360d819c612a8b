// The values an emulated vsyscall returns, taken from the host kernel for the calling thread.
#pragma once

#include <sys/types.h>

#include "vsyscall/call.h"

namespace emulator {

class HostTimeSource final : public vsyscall::TimeSource {
 public:
  explicit HostTimeSource(pid_t tid) : tid_(tid) {}
  timespec realtime() override;
  struct timezone timezone() override;
  // The CPU the (stopped) thread last ran on, from /proc/TID/stat.
  unsigned cpu() override;
  unsigned node() override;

 private:
  pid_t tid_;
  int cpu_ = -1;
};

}  // namespace emulator
