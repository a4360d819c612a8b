// Stops that concern the legacy page: the seccomp stop of a call on an xonly/emulate host,
// and SIGSEGVs for calls (none host, or the host kernel's refusals) and reads. vsyscall/
// decides; this file carries the decision out with ptrace (DESIGN.md 3.1-3.4).
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "emulator/trace/displaced_read.h"
#include "emulator/trace/engine.h"
#include "emulator/log.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"
#include "emulator/trace/remote_syscall.h"
#include "emulator/trace/seccomp_policy.h"
#include "emulator/trace/stop_helpers.h"
#include "emulator/clock/time_source.h"
#include "vsyscall/call.h"
#include "vsyscall/decision.h"
#include "vsyscall/page.h"
#include "vsyscall/read_emulation.h"

namespace emulator {
namespace {

using vsyscall::Action;
using vsyscall::Gpr;

Outcome outcome_of(const vsyscall::CallOutcome& o, vsyscall::CallFlavor f) {
  if (o.kind == vsyscall::CallOutcome::Kind::kReturned)
    return f == vsyscall::CallFlavor::kNative ? Outcome::kNative : Outcome::kEmulated;
  return Outcome::kSigsegv;
}

// What the kernel stores for the SIGSEGVs vdsorun raises (arch/x86): a none kernel's fetch
// fault at a kernel address (set_signal_archinfo adds the protection bit above
// TASK_SIZE_MAX), and emulate_vsyscall()'s write_ok_or_segv() for a pointer outside user
// space.
FaultArchInfo fetch_fault_info(uint64_t addr) {
  return page_fault(kPfProt | kPfUser | kPfInstr, addr);
}
FaultArchInfo bad_pointer_info(uint64_t addr) {
  return page_fault(kPfUser | kPfWrite, addr);
}
// emulate_vsyscall()'s other SIGSEGVs (force_sig(), SI_KERNEL) and seccomp's SIGSYS set
// nothing: the frame shows the thread's last fault, which for a thread that took no other is
// all 0. On vdsorun's fault path the last fault is the call's own fetch fault, which a kernel
// emulating the call never takes: the frame gets the 0s it would have had.
FaultArchInfo no_fault_info() {
  return FaultArchInfo{0, 0, 0};
}

}  // namespace

void Engine::record_call(Tracee& t, uint64_t target, uint64_t return_address, Outcome o) {
  recorder_.call(image_of(t), tgid_of(t), target, return_address, o);
}

void Engine::amend_call(Tracee& t, uint64_t target, uint64_t return_address, Outcome from,
                        Outcome to) {
  recorder_.amend_call(image_of(t), target, return_address, from, to);
}

void Engine::record_read(Tracee& t, uint64_t rip, Outcome o, const std::string& insn,
                         const std::string& reason) {
  recorder_.read(image_of(t), tgid_of(t), rip, o, insn, reason);
}

Resume Engine::on_seccomp(Tracee& t) {
  // PTRACE_GETEVENTMSG is the SECCOMP_RET_DATA of the filter that asked for the stop.
  const auto data = get_event_msg(t.tid);
  if (!data) return {Resume::Kind::kNothing, 0};
  auto regs = get_regs(t.tid);
  if (!regs) return {Resume::Kind::kNothing, 0};
  if (*data == kTraceDataSeccompInstall &&
      (regs->orig_rax == SYS_seccomp || regs->orig_rax == SYS_prctl)) {
    on_seccomp_install(t);
    return Resume::cont();
  }
  if (*data == kTraceDataInjectDone && regs->orig_rax == SYS_getpid &&
      regs->rdi == kInjectDoneMagic) {
    // The injection stub's marker outside an injection (the injector waits for its own): a
    // program that called getpid with the magic value. Let the getpid run.
    return Resume::cont();
  }
  if (*data == kTraceDataTimeCall && !vsyscall::in_page(regs->rip)) return on_time_call(t, *regs);
  auto entry = vsyscall::entry_at(regs->rip);
  // Our filter stops only calls from the page with kTraceDataVsyscall (and the kernel consults
  // seccomp only for exact entries). Any other stop is the program's own filter asking for a
  // tracer (stacked filters: for equal actions the newest filter's data wins). The program
  // has none: answer as the kernel answers an untraced program, -ENOSYS without the call
  // (kernel/seccomp.c, SECCOMP_RET_TRACE). In --vsyscall=none the call never reaches seccomp
  // on a real kernel: it faults first, as it does below.
  const bool ours = *data == kTraceDataVsyscall && vsyscall::in_page(regs->rip);
  if (!ours && !(entry && opts_.mode == vsyscall::Mode::kNone)) {
    VDSORUN_LOG(kDebug,
                "pid %d: the program's own seccomp stop (data %#lx) for %s at %#llx: -ENOSYS",
                t.tid, *data, syscall_name(static_cast<long>(regs->orig_rax)).c_str(),
                static_cast<unsigned long long>(regs->rip));
    Gpr w = *regs;
    w.orig_rax = static_cast<uint64_t>(-1);
    w.rax = static_cast<uint64_t>(-ENOSYS);
    // The page's own `syscall` (entry + 7) was the call the filter refused.
    if (entry && opts_.mode == vsyscall::Mode::kNative) vsyscall::native_syscall_clobbers(regs->rip, w);
    set_regs(t.tid, w);
    if (entry) {
      const uint64_t ret_addr = ProcessMemory(t.tid).read_u64(regs->rsp).value_or(0);
      record_call(t, regs->rip, ret_addr, Outcome::kEnosys);
    }
    return Resume::cont();
  }
  if (!entry) {
    // Ours but off an entry: the kernel never consults seccomp there; nothing to do.
    return Resume::cont();
  }
  ProcessMemory mem(t.tid);
  const auto ret_word = mem.read_u64(regs->rsp);
  uint64_t ret_addr = ret_word.value_or(0);

  switch (vsyscall::on_seccomp_entry_call(opts_.mode, *entry,
                                          opts_.vvar != nullptr || opts_.time.active())) {
    case Action::kNativeCall: {
      if (regs->eflags & vsyscall::kFlagTF) {
        record_call(t, regs->rip, ret_addr, Outcome::kNative);
        return native_step_entry(t, *regs, *entry);
      }
      if (!ret_word) {
        // The kernel read [rsp] before this stop, so it is readable: it is we who are refused
        // the program's memory. A non-dumpable program traced by a non-root user: Linux
        // refuses process_vm_readv, /proc/PID/mem and (since 4.10, the tracer's credentials
        // are checked) PTRACE_PEEKDATA. The kernel's own emulation makes the call with the
        // program's rights and gives the same values; only rcx/r11 are kept where the page's
        // own `syscall` would set them.
        VDSORUN_LOG(kDebug,
                    "pid %d: the program's memory is closed to us: the kernel makes the call",
                    t.tid);
        record_call(t, regs->rip, ret_addr, Outcome::kNative);
        return Resume::cont();
      }
      // Skip the kernel's emulation and return what the page's own syscall would; the kernel
      // still emulates the `ret` itself, so only rax/rcx/r11 are ours to set.
      Gpr after = *regs;
      auto time = time_source(t.tid);
      auto out = vsyscall::perform_call(*entry, after, mem, *time, vsyscall::CallFlavor::kNative);
      Gpr w = *regs;
      w.orig_rax = static_cast<uint64_t>(-1);
      w.rax = after.rax;
      w.rcx = after.rcx;
      w.r11 = after.r11;
      set_regs(t.tid, w);
      record_call(t, regs->rip, ret_addr, outcome_of(out, vsyscall::CallFlavor::kNative));
      patch_later(t, *entry, ret_addr);
      return Resume::cont();
    }
    case Action::kFetchFault: {
      // A none kernel never gets here: the call faults. Skipping makes the kernel emulate the
      // `ret`; an interrupt stop right after it lets us put the registers back and make the
      // CPU fault on a fetch, which gives the sigcontext a real fetch error code.
      Gpr saved = *regs;
      saved.orig_rax = static_cast<uint64_t>(-1);
      // The kernel overwrote rax with -ENOSYS before the stop.
      saved.rax = caller_rax(t.tid, regs->rip, ret_addr);
      Gpr w = *regs;
      w.orig_rax = static_cast<uint64_t>(-1);
      set_regs(t.tid, w);
      t.pending = Tracee::Pending::kFetchFaultInterrupt;
      t.fetch_addr = regs->rip;
      t.saved = saved;
      interrupt(t.tid);
      record_call(t, regs->rip, ret_addr, Outcome::kSigsegv);
      return Resume::cont();
    }
    case Action::kAnswerFromVvar: {
      // Answer from the injected vDSO's clock: skip the kernel's emulation, which then only
      // emulates the `ret`. The kernel has already checked the return address and the
      // pointers; a write that faults is left to the kernel, which faults the same way.
      Gpr after = *regs;
      auto out = vsyscall::perform_call(*entry, after, mem, *time_source(t.tid),
                                        vsyscall::CallFlavor::kEmulated);
      if (out.kind == vsyscall::CallOutcome::Kind::kReturned) {
        Gpr w = *regs;
        w.orig_rax = static_cast<uint64_t>(-1);
        w.rax = after.rax;
        set_regs(t.tid, w);
        record_call(t, regs->rip, ret_addr, Outcome::kEmulated);
        patch_later(t, *entry, ret_addr);
        return Resume::cont();
      }
      [[fallthrough]];
    }
    case Action::kPassThrough:
    default:
      // The host kernel emulates the call exactly as a vsyscall=emulate/xonly kernel does.
      record_call(t, regs->rip, ret_addr, Outcome::kEmulated);
      t.passed_call_target = regs->rip;
      t.passed_call_return = ret_addr;
      patch_later(t, *entry, ret_addr);
      return Resume::cont();
  }
}

uint64_t Engine::caller_rax(pid_t tid, uint64_t entry, uint64_t return_address) {
  // Legacy callers load the entry into the register they call through
  // (`mov $entry,%rax; call *%rax`); when that register is rax we know its value.
  ProcessMemory mem(tid);
  uint8_t before[15];
  if (mem.read_partial(return_address - 15, before) == 15) {
    auto call = disasm_.call_before(before, return_address);
    if (call && call->target_reg != X86_REG_INVALID && call->target_reg != X86_REG_RAX)
      return static_cast<uint64_t>(-38);  // unknowable: leave the kernel's -ENOSYS
  }
  return entry;
}

// si_code of a SIGSYS from a seccomp RET_TRAP (<asm-generic/siginfo.h>; glibc's headers lack it).
constexpr int kSysSeccomp = 1;

std::optional<Resume> Engine::on_sigsys(Tracee& t) {
  // The program's own seccomp filter (or, emulating none, ours) said RET_TRAP for a vsyscall:
  // the host kernel has rolled rax back to the syscall number, emulated the `ret`, and queued
  // SIGSYS with si_call_addr = the entry.
  auto si = get_siginfo(t.tid);
  if (!si || si->si_code != kSysSeccomp) return std::nullopt;
  uint64_t call_addr = reinterpret_cast<uint64_t>(si->si_call_addr);
  if (t.remote_call_from && call_addr == t.remote_call_from) {
    // Raised by the program's filter for a vsyscall we ran as a real syscall on a none host:
    // it must name the entry, as the kernel's own emulation would have.
    si->si_call_addr = as_ptr(t.remote_call_entry);
    t.remote_call_from = 0;
    set_siginfo(t.tid, *si);
    call_addr = t.remote_call_entry;
    if (opts_.mode == vsyscall::Mode::kXonly || opts_.mode == vsyscall::Mode::kEmulate)
      return deliver(t, *si, si->si_code, call_addr, no_fault_info());
  }
  const Action action = vsyscall::on_program_sigsys(opts_.mode);
  if (!vsyscall::entry_at(call_addr) || action == Action::kPassThrough) return std::nullopt;
  auto regs = get_regs(t.tid);
  if (!regs) return Resume{Resume::Kind::kNothing, 0};
  Gpr w = *regs;
  w.rsp -= 8;  // undo the emulated `ret`: the return address is still on the stack
  if (action == Action::kFetchFault) {
    // A none kernel faults on the fetch and never consults seccomp. On an xonly/emulate host
    // every call of the page gets here: vdsorun's own filter says TRAP (vsyscall_action()),
    // which outranks the program's ERRNO that would otherwise complete the call unseen.
    record_call(t, call_addr, regs->rip, Outcome::kSigsegv);
    w.rax = caller_rax(t.tid, call_addr, regs->rip);
    w.rip = kFetchTrapAddr;
    set_regs(t.tid, w);
    t.pending = Tracee::Pending::kFetchFaultTrap;
    t.fetch_addr = call_addr;
    return Resume::cont();
  }
  // kNativeSigsys: the filtered syscall is the page's own, at entry+7; rip after it is entry+9.
  vsyscall::native_syscall_clobbers(call_addr, w);
  const uint64_t after = w.rcx;
  w.rip = after;
  set_regs(t.tid, w);
  si->si_call_addr = as_ptr(after);
  set_siginfo(t.tid, *si);
  return Resume::cont(SIGSYS);
}

Resume Engine::call_through_program_filters(Tracee& t, Gpr regs, vsyscall::Entry entry,
                                            siginfo_t si, uint64_t return_address,
                                            vsyscall::CallFlavor flavor) {
  // On a none host nothing consulted the program's own seccomp filters, as a kernel emulating
  // the call would. Run the call as the real syscall in the program (code bytes borrowed at
  // the return address) so that ERRNO, TRAP and KILL act as they would have.
  ProcessMemory mem(t.tid);
  const uint64_t entry_addr = vsyscall::entry_address(entry);
  const bool native = flavor == vsyscall::CallFlavor::kNative;
  // Native mode is the page's own `syscall`: no checks before it, and rdx passed as it is.
  if (auto early = native ? std::nullopt : vsyscall::check_before_seccomp(entry, regs, mem)) {
    record_call(t, entry_addr, return_address, Outcome::kSigsegv);
    if (early->kind == vsyscall::CallOutcome::Kind::kSigsegvMaperr)
      return deliver(t, si, SEGV_MAPERR, early->fault_addr, bad_pointer_info(early->fault_addr));
    return deliver(t, si, SI_KERNEL, 0, no_fault_info());
  }
  std::optional<long> r;
  {
    OthersStopped others = others_stopped(tgid_of(t), t.tid);  // they could run the borrowed `syscall`
    RemoteSyscalls rs(t.tid, return_address);
    rs.answer_trace_as_untraced();
    if (rs.ok())
      r = rs.syscall(vsyscall::syscall_number(entry), regs.rdi, regs.rsi, native ? regs.rdx : 0);
    if (!rs.alive()) return {Resume::Kind::kNothing, 0};  // its filter killed it
    requeue(t, rs.deferred_signals());
  }
  if (!r) return Resume::cont(SIGSEGV);
  t.remote_call_from = return_address + 2;  // after the borrowed `syscall`
  t.remote_call_entry = entry_addr;
  if (*r == -EFAULT && !native) {
    record_call(t, entry_addr, return_address, Outcome::kSigsegv);
    regs.rax = static_cast<uint64_t>(-ENOSYS);
    set_regs(t.tid, regs);
    return deliver(t, si, SI_KERNEL, 0, no_fault_info());
  }
  record_call(t, entry_addr, return_address, native ? Outcome::kNative : Outcome::kEmulated);
  regs.rax = static_cast<uint64_t>(*r);
  if (native) vsyscall::native_syscall_clobbers(entry_addr, regs);
  regs.rip = return_address;
  regs.rsp += 8;
  set_regs(t.tid, regs);
  return Resume::cont();
}

Resume Engine::on_fetch_fault_interrupt(Tracee& t) {
  Gpr w = t.saved;
  w.rip = kFetchTrapAddr;
  set_regs(t.tid, w);
  t.pending = Tracee::Pending::kFetchFaultTrap;
  return Resume::cont();
}

std::optional<Resume> Engine::on_sigsegv(Tracee& t) {
  auto si = get_siginfo(t.tid);
  if (!si) return Resume{Resume::Kind::kNothing, 0};
  const uint64_t fault_at = reinterpret_cast<uint64_t>(si->si_addr);

  if (t.pending == Tracee::Pending::kFetchFaultTrap && fault_at == kFetchTrapAddr) {
    auto regs = get_regs(t.tid);
    if (!regs) return Resume{Resume::Kind::kNothing, 0};
    regs->rip = t.fetch_addr;
    set_regs(t.tid, *regs);
    t.pending = Tracee::Pending::kNone;
    if (std::exchange(t.step_trap, false)) return native_step_trap(t, *regs);
    // The fault at the trap address already carries a fetch fault's err and trapno; cr2 must
    // name the entry, as on a none kernel.
    return deliver(t, *si, SEGV_MAPERR, t.fetch_addr, fetch_fault_info(t.fetch_addr));
  }
  // Sent by a process (kill, tgkill, sigqueue): not a fault.
  if (si->si_code <= 0) return std::nullopt;

  auto regs = get_regs(t.tid);
  if (!regs) return Resume{Resume::Kind::kNothing, 0};
  if (auto r = rewind_patched_call(t, *regs)) return r;

  if (vsyscall::in_page(regs->rip)) {
    const uint64_t rip = regs->rip;
    const bool raw =
        opts_.host == vsyscall::HostMode::kNone && si->si_code == SEGV_MAPERR && fault_at == rip;
    ProcessMemory mem(t.tid);
    const uint64_t ret_addr = mem.read_u64(regs->rsp).value_or(0);
    const auto entry = vsyscall::entry_at(rip);
    switch (vsyscall::on_fault_in_page(opts_.mode, rip, raw)) {
      case Action::kPassThrough:
        if (t.passed_call_target == rip && t.passed_call_return == ret_addr) {
          // The call we let the kernel emulate faulted on a user pointer: same call.
          amend_call(t, rip, ret_addr, Outcome::kEmulated, Outcome::kSigsegv);
        } else {
          record_call(t, rip, ret_addr, Outcome::kSigsegv);
        }
        return Resume::cont(SIGSEGV);
      case Action::kEmulateCall:
      case Action::kNativeCall: {
        const auto flavor = opts_.mode == vsyscall::Mode::kNative ? vsyscall::CallFlavor::kNative
                                                                  : vsyscall::CallFlavor::kEmulated;
        if (flavor == vsyscall::CallFlavor::kNative && (regs->eflags & vsyscall::kFlagTF)) {
          // Single-stepped (a none host's fetch fault): the entry's `mov`, then its trap.
          record_call(t, rip, ret_addr, Outcome::kNative);
          Gpr r = *regs;
          r.rax = static_cast<uint64_t>(vsyscall::syscall_number(*entry));
          r.rip = rip + vsyscall::kSyscallEndOffset - 2;
          return native_step_trap(t, r);
        }
        if (raw && has_own_seccomp_filters(t.tid))
          return call_through_program_filters(t, *regs, *entry, *si, ret_addr, flavor);
        Gpr r = *regs;
        auto time = time_source(t.tid);
        auto out = vsyscall::perform_call(*entry, r, mem, *time, flavor);
        record_call(t, rip, ret_addr, outcome_of(out, flavor));
        switch (out.kind) {
          case vsyscall::CallOutcome::Kind::kReturned:
            set_regs(t.tid, r);
            patch_later(t, *entry, ret_addr);
            return Resume::cont();
          case vsyscall::CallOutcome::Kind::kSigsegvMaperr:
            set_regs(t.tid, r);
            return deliver(t, *si, SEGV_MAPERR, out.fault_addr, bad_pointer_info(out.fault_addr));
          case vsyscall::CallOutcome::Kind::kSigsegvKernel:
            set_regs(t.tid, r);
            return deliver(t, *si, SI_KERNEL, 0, no_fault_info());
        }
        return Resume::cont(SIGSEGV);
      }
      case Action::kKernelSigsegv:
        record_call(t, rip, ret_addr, Outcome::kSigsegv);
        return deliver(t, *si, SI_KERNEL, 0, no_fault_info());
      case Action::kFetchFault: {
        record_call(t, rip, ret_addr, Outcome::kSigsegv);
        Gpr w = *regs;
        w.rip = kFetchTrapAddr;
        set_regs(t.tid, w);
        t.pending = Tracee::Pending::kFetchFaultTrap;
        t.fetch_addr = rip;
        return Resume::cont();
      }
      case Action::kNativeExecute:
        return native_execute(t, *regs, *si);
      case Action::kEmulateRead:  // never for a fault in the page (not the table's answers)
      case Action::kAnswerFromVvar:
      case Action::kNativeSigsys:
        break;
    }
    return Resume::cont(SIGSEGV);
  }

  if ((si->si_code == SEGV_MAPERR || si->si_code == SEGV_ACCERR) && vsyscall::in_page(fault_at)) {
    if (vsyscall::on_data_access(opts_.mode) == Action::kEmulateRead)
      return emulate_read_at(t, *regs, *si);
    record_read(t, regs->rip, Outcome::kSigsegv, "");
    return Resume::cont(SIGSEGV);
  }
  return std::nullopt;
}

Resume Engine::emulate_read_at(Tracee& t, const Gpr& regs, siginfo_t si) {
  ProcessMemory mem(t.tid);
  uint8_t code[15];
  size_t n = mem.read_partial(regs.rip, code);
  vsyscall::CpuState st;
  st.gpr = regs;
  if (!get_vector_regs(t.tid, st)) return {Resume::Kind::kNothing, 0};
  auto res = vsyscall::emulate_read(std::span<const uint8_t>(code, n), st, mem);
  using S = vsyscall::ReadEmulation::Status;
  switch (res.status) {
    case S::kDone:
      set_regs(t.tid, st.gpr);
      if (res.vector_changed) set_vector_regs(t.tid, st, res.zmm_upper_zeroed);
      record_read(t, regs.rip, Outcome::kReadEmulated, res.instruction);
      return Resume::cont();
    case S::kFault:
      record_read(t, regs.rip, Outcome::kSigsegv, res.instruction);
      return deliver(t.tid, si, SEGV_MAPERR, res.fault_addr);
    case S::kWritesPage:
      // A write faults in every mode. Even where the page is mapped (emulate, native) it is a
      // kernel address, whose faults the kernel always reports as SEGV_MAPERR.
      record_read(t, regs.rip, Outcome::kWriteFault, res.instruction);
      return Resume::cont(SIGSEGV);
    case S::kUnsupported:
    default: {
      // Let the CPU run it against a copy of the page, if one register clearly addresses it.
      uint64_t& shadow = process(tgid_of(t)).shadow_page;
      std::optional<OthersStopped> others;  // mapping the copy borrows code bytes at rip
      if (!shadow) others.emplace(stop_other_threads(tgid_of(t), t.tid));
      auto d = run_displaced_read(t.tid, regs, reinterpret_cast<uint64_t>(si.si_addr), shadow);
      requeue(t, d.deferred);
      const std::string insn = res.instruction.empty() ? "(not decoded)" : res.instruction;
      if (d.status == DisplacedRead::Status::kGone) return {Resume::Kind::kNothing, 0};
      if (d.status == DisplacedRead::Status::kDone) {
        record_read(t, regs.rip, Outcome::kReadOnCopy, insn);
        return Resume::cont();
      }
      if (d.status == DisplacedRead::Status::kFault) {
        record_read(t, regs.rip, Outcome::kSigsegv, insn);
        return deliver(t.tid, si, SEGV_MAPERR, d.fault_addr);
      }
      record_read(t, regs.rip, Outcome::kReadNotEmulated, res.instruction,
                  res.reason);
      VDSORUN_LOG(
          kWarn, "pid %d: cannot emulate the read of the vsyscall page by `%s` at %#llx: %s", t.tid,
          res.instruction.c_str(), static_cast<unsigned long long>(regs.rip), res.reason.c_str());
      return Resume::cont(SIGSEGV);
    }
  }
}

}  // namespace emulator
