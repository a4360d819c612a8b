// Carries out a call to one of the three vsyscall entries the way the kernel's
// emulate_vsyscall() does (flavor kEmulated), or the way the page's own code
// `mov $nr,%rax; syscall; ret` does on a vsyscall=native kernel (flavor kNative).
#pragma once

#include <sys/time.h>

#include <cstdint>
#include <ctime>
#include <optional>

#include "vsyscall/cpu_state.h"
#include "vsyscall/memory.h"
#include "vsyscall/page.h"

namespace vsyscall {

// Where an emulated call gets its values. The engine implements it (the kernel clocks, or
// the injected vvar clock so that emulated calls agree with the injected vDSO).
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual timespec realtime() = 0;
  // What time() returns: the kernel's coarse REALTIME seconds (ktime_get_real_seconds()),
  // which can trail realtime() by up to a tick.
  virtual timespec realtime_coarse() { return realtime(); }
  // The kernel's sys_tz, what gettimeofday() writes to a non-NULL timezone pointer.
  virtual struct timezone timezone() = 0;
  // The CPU and NUMA node the calling thread runs on.
  virtual unsigned cpu() = 0;
  virtual unsigned node() = 0;
};

enum class CallFlavor { kEmulated, kNative };

struct CallOutcome {
  enum class Kind {
    kReturned,       // rax set, ret done: resume the program
    kSigsegvMaperr,  // deliver SIGSEGV SEGV_MAPERR with si_addr = fault_addr
    kSigsegvKernel,  // deliver SIGSEGV SI_KERNEL (si_addr 0)
  };
  Kind kind = Kind::kReturned;
  uint64_t fault_addr = 0;
  // The value the call returned in rax (also set on kReturned in `regs`).
  int64_t result = 0;
};

// Runs the call that `regs` (rip at an entry, rsp at the return address) makes.
// On kReturned, `regs` holds the state after the `ret`: rax = result, rip = return address,
// rsp += 8; kNative also clobbers rcx (= entry + 9) and r11 (= rflags) like `syscall` does.
// On a signal, `regs` holds the state the signal is delivered with: for kEmulated rip at the
// entry and everything untouched but rax, which is -ENOSYS after a fault during the copy (the
// kernel set it before consulting seccomp); rip at the `ret` for a kNative call whose stack is
// bad.
CallOutcome perform_call(Entry entry, Gpr& regs, Memory& mem, TimeSource& time, CallFlavor flavor);

// What the page's own `syscall` (at entry + 7) does to the registers besides rax: rcx = the
// rip after it (entry + 9), r11 = rflags, without the resume flag the stop that caught the
// call set (not part of what the program had). `entry_addr` is the entry's address.
void native_syscall_clobbers(uint64_t entry_addr, Gpr& regs);

// The part of an emulated call that happens before the kernel consults seccomp: reading the
// return address and checking the pointers. An outcome if the call ends there (a signal),
// nullopt if it goes on to seccomp and the syscall.
std::optional<CallOutcome> check_before_seccomp(Entry entry, const Gpr& regs, Memory& mem);

}  // namespace vsyscall
