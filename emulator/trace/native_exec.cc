// vsyscall=native: a kernel <= 4.14 mapped the page's bytes and let the CPU run them. A call at
// an entry is handled in vsyscall_stops.cc; this file runs the other offsets: the tail of an
// entry's `mov $nr,%rax; syscall; ret` and the int3 (0xcc) filler.
#include <signal.h>
#include <sys/syscall.h>

#include <cerrno>

#include "emulator/trace/engine.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"
#include "emulator/trace/remote_syscall.h"
#include "emulator/trace/stop_helpers.h"
#include "emulator/clock/time_source.h"
#include "vsyscall/call.h"
#include "vsyscall/page.h"

namespace emulator {
namespace {

using vsyscall::Gpr;

// Numbers above this are not syscalls on any x86-64 kernel (x32 ones have bit 30 set and are
// refused the same way): -ENOSYS without asking the kernel.
constexpr uint64_t kMaxSyscallNr = 1024;

// Where the entry's `mov $nr,%rax` ends and its 2-byte `syscall` starts.
constexpr uint64_t kMovEndOffset = vsyscall::kSyscallEndOffset - 2;

bool single_stepping(const Gpr& regs) {
  return (regs.eflags & vsyscall::kFlagTF) != 0;
}

// Flags of a 32-bit `add` (CF, PF, AF, ZF, SF, OF).
uint64_t add32_flags(uint64_t eflags, uint32_t a, uint32_t b) {
  const uint32_t r = a + b;
  eflags &= ~vsyscall::kArithFlags;
  if (r < a) eflags |= vsyscall::kFlagCF;
  if (__builtin_parity(r & 0xff) == 0) eflags |= vsyscall::kFlagPF;
  if (((a ^ b ^ r) & 0x10) != 0) eflags |= vsyscall::kFlagAF;
  if (r == 0) eflags |= vsyscall::kFlagZF;
  if (r & 0x80000000u) eflags |= vsyscall::kFlagSF;
  if (((a ^ r) & (b ^ r) & 0x80000000u) != 0) eflags |= vsyscall::kFlagOF;
  return eflags;
}

}  // namespace

Resume Engine::native_execute(Tracee& t, Gpr regs, siginfo_t si) {
  const uint64_t rip = regs.rip;
  const uint64_t off = rip - vsyscall::kPageBase;
  ProcessMemory mem(t.tid);
  uint64_t ret_addr = mem.read_u64(regs.rsp).value_or(0);
  if (vsyscall::page_image()[off] == 0xcc) {
    record_call(t, rip, ret_addr, Outcome::kSigtrap);
    return native_int3(t, regs, rip);
  }
  const uint64_t in_entry = off % vsyscall::kEntryStride;
  const uint64_t entry_base = rip - in_entry;
  const auto entry = vsyscall::entry_at(entry_base);
  if (entry) {
    switch (in_entry) {
      case 1:  // `mov $nr,%eax` (the 32-bit form), then the syscall
        regs.rax = static_cast<uint32_t>(vsyscall::syscall_number(*entry));
        record_call(t, rip, ret_addr, Outcome::kNative);
        if (single_stepping(regs)) {
          regs.rip = entry_base + kMovEndOffset;
          return native_step_trap(t, regs);
        }
        return native_syscall(t, regs, entry_base);
      case 7:  // `syscall` with whatever rax holds
        // Under single-stepping this is the rest of a call already counted at its entry.
        if (!single_stepping(regs)) record_call(t, rip, ret_addr, Outcome::kNative);
        return native_syscall(t, regs, entry_base);
      case 9:  // `ret`
        if (!single_stepping(regs)) record_call(t, rip, ret_addr, Outcome::kNative);
        if (!mem.read_u64(regs.rsp)) return deliver(t.tid, si, SEGV_MAPERR, regs.rsp);
        regs.rip = ret_addr;
        regs.rsp += 8;
        if (single_stepping(regs)) return native_step_trap(t, regs);
        set_regs(t.tid, regs);
        return Resume::cont();
      case 3:  // 0x60: not an instruction in 64-bit mode
        record_call(t, rip, ret_addr, Outcome::kSigill);
        si.si_signo = SIGILL;
        si.si_errno = 0;
        return deliver(t.tid, si, ILL_ILLOPN, rip);
      case 8: {  // `add $0xcccccc3,%eax` (05 c3 cc cc cc), then int3 at entry+13
        record_call(t, rip, ret_addr, Outcome::kSigtrap);
        const uint32_t imm = 0xccccccc3u;
        const uint32_t a = static_cast<uint32_t>(regs.rax);
        regs.eflags = add32_flags(regs.eflags, a, imm);
        regs.rax = static_cast<uint32_t>(a + imm);
        return native_int3(t, regs, entry_base + 13);
      }
      default:
        break;
    }
  }
  record_call(t, rip, ret_addr, Outcome::kNativeNotEmulated);
  return deliver(t.tid, si, SI_KERNEL, 0);
}

Resume Engine::native_syscall(Tracee& t, Gpr regs, uint64_t entry_base) {
  ProcessMemory mem(t.tid);
  const uint64_t nr = regs.rax;
  int64_t result = -ENOSYS;
  if (auto e = vsyscall::entry_for_syscall(static_cast<long>(nr))) {
    Gpr r = regs;
    auto time = time_source(t.tid);
    // perform_call() also does the `ret`; only its return value is wanted here.
    vsyscall::perform_call(*e, r, mem, *time, vsyscall::CallFlavor::kNative);
    result = static_cast<int64_t>(r.rax);
  } else if (nr < kMaxSyscallNr) {
    // Any other syscall runs in the program itself, from code bytes borrowed at the return
    // address (the page cannot be written).
    uint64_t ret_addr = mem.read_u64(regs.rsp).value_or(0);
    RemoteSyscalls rs(t.tid, ret_addr);
    auto r = rs.ok() ? rs.syscall(static_cast<long>(nr), regs.rdi, regs.rsi, regs.rdx, regs.r10,
                                  regs.r8, regs.r9)
                     : std::nullopt;
    if (!rs.alive()) return {Resume::Kind::kNothing, 0};
    if (r) result = *r;
    requeue(t, rs.deferred_signals());
  }
  regs.rax = static_cast<uint64_t>(result);
  vsyscall::native_syscall_clobbers(entry_base, regs);
  if (single_stepping(regs)) {
    // The trap after the `syscall`; the `ret` runs (and traps) when the handler returns to it.
    regs.rip = entry_base + vsyscall::kSyscallEndOffset;
    return native_step_trap(t, regs);
  }
  const auto caller = mem.read_u64(regs.rsp);
  if (!caller) {
    regs.rip = entry_base + vsyscall::kSyscallEndOffset;  // the `ret` faults
    set_regs(t.tid, regs);
    siginfo_t si{};
    si.si_signo = SIGSEGV;
    if (auto cur = get_siginfo(t.tid)) si = *cur;
    return deliver(t.tid, si, SEGV_MAPERR, regs.rsp);
  }
  regs.rip = *caller;
  regs.rsp += 8;
  set_regs(t.tid, regs);
  return Resume::cont();
}

Resume Engine::native_step_entry(Tracee& t, const Gpr& regs, vsyscall::Entry entry) {
  // The seccomp stop of a call at an entry with TF set. A native kernel's CPU traps after the
  // entry's `mov`, again after its `syscall` and after its `ret`. At this stop only a skip is
  // allowed, and the kernel then emulates the `ret`; an interrupt stop right after it puts
  // back the state after the `mov` (the fetch fault dance of --vsyscall=none), and the fault
  // at the trap address becomes the mov's trap. When the handler returns into the page, each
  // following instruction faults and is run by native_execute() with its own trap.
  Gpr saved = regs;
  saved.orig_rax = static_cast<uint64_t>(-1);
  saved.rax = static_cast<uint64_t>(vsyscall::syscall_number(entry));
  Gpr w = regs;
  w.orig_rax = static_cast<uint64_t>(-1);
  set_regs(t.tid, w);
  t.saved = saved;
  t.fetch_addr = vsyscall::entry_address(entry) + kMovEndOffset;
  t.step_trap = true;
  t.pending = Tracee::Pending::kFetchFaultInterrupt;
  interrupt(t.tid);
  return Resume::cont();
}

Resume Engine::native_step_trap(Tracee& t, const Gpr& regs) {
  // At a signal-delivery-stop: the single-step trap after the instruction that brought the
  // thread to `regs` -- SIGTRAP, TRAP_TRACE, si_addr = the next rip, trapno 1, error code 0.
  set_regs(t.tid, regs);
  siginfo_t si{};
  si.si_signo = SIGTRAP;
  return deliver(t, si, TRAP_TRACE, regs.rip, debug_trap());
}

Resume Engine::native_int3(Tracee& t, const Gpr& regs, uint64_t int3_addr) {
  // Make the CPU execute a real int3 so the sigcontext says trap 3, error 0, like the page's own
  // 0xcc would: borrow one byte of the caller's code (the return address) for it. Another
  // thread running that very byte meanwhile would trap too; native-mode programs that jump into
  // the filler from several threads at once are not a case worth a scratch page.
  ProcessMemory mem(t.tid);
  const auto ret = mem.read_u64(regs.rsp);
  const uint64_t ret_addr = ret.value_or(0);
  uint8_t byte = 0;
  const uint8_t int3 = 0xcc;
  if (!ret || mem.read_partial(ret_addr, std::span<uint8_t>(&byte, 1)) != 1 ||
      !mem.poke(ret_addr, std::span<const uint8_t>(&int3, 1))) {
    // No code to borrow: a SIGTRAP without the trap number.
    Gpr w = regs;
    w.rip = int3_addr + 1;
    set_regs(t.tid, w);
    siginfo_t si{};
    si.si_signo = SIGTRAP;
    si.si_code = SI_KERNEL;
    set_siginfo(t.tid, si);
    return Resume::cont(SIGTRAP);
  }
  t.saved = regs;
  t.saved.rip = int3_addr + 1;
  t.borrowed_addr = ret_addr;
  t.borrowed_byte = byte;
  t.pending = Tracee::Pending::kInt3Trap;
  Gpr w = regs;
  w.rip = ret_addr;
  set_regs(t.tid, w);
  return Resume::cont();
}

std::optional<Resume> Engine::on_sigtrap(Tracee& t) {
  auto regs = get_regs(t.tid);
  if (!regs) return Resume{Resume::Kind::kNothing, 0};
  if (regs->rip != t.borrowed_addr + 1) return std::nullopt;
  ProcessMemory mem(t.tid);
  mem.poke(t.borrowed_addr, std::span<const uint8_t>(&t.borrowed_byte, 1));
  set_regs(t.tid, t.saved);
  t.pending = Tracee::Pending::kNone;
  return Resume::cont(SIGTRAP);  // the real int3's siginfo: SI_KERNEL, addr 0
}

}  // namespace emulator
