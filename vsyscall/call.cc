// The kernel's vsyscall call semantics (arch/x86/entry/vsyscall/vsyscall_64.c) as a pure
// function over registers, memory and a time source.
#include "vsyscall/call.h"

#include <cerrno>
#include <cstring>

namespace vsyscall {
namespace {

struct PtrArg {
  uint64_t addr;
  uint64_t size;
};

// The kernel's access_ok() for the small constant sizes used here: since Linux 6.12
// (USER_PTR_MAX as a runtime constant) it checks only the start address against
// TASK_SIZE_MAX, not start + size. A pointer just below the limit passes and faults during
// the copy instead (SI_KERNEL rather than SEGV_MAPERR in emulate_vsyscall()).
constexpr bool access_ok_small(uint64_t addr) {
  return addr <= kUserSpaceEnd;
}

// put_user()/copy_to_user(): the range must be user memory and writable.
template <typename T>
bool put_user(Memory& mem, uint64_t addr, const T& value) {
  if (!user_range_ok(addr, sizeof(T))) return false;
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  return mem.write(addr, bytes);
}

// The pointer arguments (NULL allowed) each entry writes through, as emulate_vsyscall()
// checks them with write_ok_or_segv(), in that order.
void pointer_args(Entry e, const Gpr& regs, PtrArg out[2], int& count) {
  switch (e) {
    case Entry::kGettimeofday:
      out[0] = {regs.rdi, 16};  // struct __kernel_old_timeval
      out[1] = {regs.rsi, 8};   // struct timezone
      count = 2;
      return;
    case Entry::kTime:
      out[0] = {regs.rdi, 8};  // __kernel_old_time_t
      count = 1;
      return;
    case Entry::kGetcpu:
      out[0] = {regs.rdi, 4};  // unsigned cpu; the third argument is ignored
      out[1] = {regs.rsi, 4};  // unsigned node
      count = 2;
      return;
  }
  count = 0;
}

// The syscall body, as sys_gettimeofday/sys_time/sys_getcpu write their results: returns the
// syscall's return value, -EFAULT on a failed copy (earlier copies stay done).
int64_t run_syscall(Entry e, const Gpr& regs, Memory& mem, TimeSource& time) {
  switch (e) {
    case Entry::kGettimeofday: {
      if (regs.rdi != 0) {
        const timespec ts = time.realtime();
        // Two put_user()s: tv_sec, then tv_usec.
        if (!put_user(mem, regs.rdi, static_cast<int64_t>(ts.tv_sec)) ||
            !put_user(mem, regs.rdi + 8, static_cast<int64_t>(ts.tv_nsec / 1000))) {
          return -EFAULT;
        }
      }
      if (regs.rsi != 0) {
        const struct timezone tz = time.timezone();
        const int32_t v[2] = {tz.tz_minuteswest, tz.tz_dsttime};
        if (!put_user(mem, regs.rsi, v)) return -EFAULT;
      }
      return 0;
    }
    case Entry::kTime: {
      const int64_t t = time.realtime_coarse().tv_sec;
      if (regs.rdi != 0 && !put_user(mem, regs.rdi, t)) return -EFAULT;
      return t;
    }
    case Entry::kGetcpu: {
      // sys_getcpu() tries both copies and ORs the failures together.
      bool ok = true;
      if (regs.rdi != 0) ok &= put_user(mem, regs.rdi, static_cast<uint32_t>(time.cpu()));
      if (regs.rsi != 0) ok &= put_user(mem, regs.rsi, static_cast<uint32_t>(time.node()));
      return ok ? 0 : -EFAULT;
    }
  }
  return -ENOSYS;
}

}  // namespace

std::optional<CallOutcome> check_before_seccomp(Entry entry, const Gpr& regs, Memory& mem) {
  CallOutcome out;
  // emulate_vsyscall(): the return address is fetched before anything else.
  uint8_t ret_bytes[8];
  if (!mem.read(regs.rsp, ret_bytes)) {
    out.kind = CallOutcome::Kind::kSigsegvKernel;
    return out;
  }
  // write_ok_or_segv(): a pointer the kernel's access_ok() rejects is a SEGV_MAPERR at
  // that pointer, with the registers untouched.
  PtrArg ptrs[2];
  int n = 0;
  pointer_args(entry, regs, ptrs, n);
  for (int i = 0; i < n; ++i) {
    if (!access_ok_small(ptrs[i].addr)) {  // NULL passes: it means "do not write"
      out.kind = CallOutcome::Kind::kSigsegvMaperr;
      out.fault_addr = ptrs[i].addr;
      return out;
    }
  }
  return std::nullopt;
}

CallOutcome perform_call(Entry entry, Gpr& regs, Memory& mem, TimeSource& time, CallFlavor flavor) {
  CallOutcome out;
  const uint64_t entry_addr = entry_address(entry);
  uint64_t caller = 0;
  uint8_t ret_bytes[8];

  if (flavor == CallFlavor::kEmulated) {
    if (auto early = check_before_seccomp(entry, regs, mem)) return *early;
    mem.read(regs.rsp, ret_bytes);
    std::memcpy(&caller, ret_bytes, 8);
    // Before consulting seccomp the kernel sets orig_ax = nr and ax = -ENOSYS; a signal from
    // here on shows that rax.
    const int64_t ret = run_syscall(entry, regs, mem, time);
    if (ret == -EFAULT) {
      // A fault during the copy: the kernel's `goto sigsegv`, no ret emulated.
      regs.rax = static_cast<uint64_t>(-ENOSYS);
      out.kind = CallOutcome::Kind::kSigsegvKernel;
      return out;
    }
    out.result = ret;
    regs.rax = static_cast<uint64_t>(ret);
    regs.rip = caller;
    regs.rsp += 8;
    return out;
  }

  // Native: `mov $nr,%rax; syscall; ret`. The syscall itself checks each pointer as it
  // copies and returns -EFAULT (copies before the bad one stay done); it clobbers rcx and r11
  // like every `syscall` instruction.
  const int64_t ret = run_syscall(entry, regs, mem, time);
  out.result = ret;
  regs.rax = static_cast<uint64_t>(ret);
  native_syscall_clobbers(entry_addr, regs);
  if (!mem.read(regs.rsp, ret_bytes)) {
    // The `ret` at entry+9 faults reading the stack.
    regs.rip = entry_addr + kSyscallEndOffset;
    out.kind = CallOutcome::Kind::kSigsegvMaperr;
    out.fault_addr = regs.rsp;
    return out;
  }
  std::memcpy(&caller, ret_bytes, 8);
  regs.rip = caller;
  regs.rsp += 8;
  return out;
}

void native_syscall_clobbers(uint64_t entry_addr, Gpr& regs) {
  regs.rcx = entry_addr + kSyscallEndOffset;
  regs.r11 = regs.eflags & ~kFlagRF;
}

}  // namespace vsyscall
