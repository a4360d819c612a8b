// The expectation table of the integration matrix (DESIGN.md 3.4), one row per program run.
// The xonly column is validated by running the programs directly on a vsyscall=xonly host;
// none and emulate by the guest-kernel runs; native is what a <= 4.14 kernel's page code does.
#include "matrix_rows.h"

#include <cstdint>

namespace integration {
namespace {

constexpr int kHandlerExit = 66;  // TRACEE_SIGNAL_EXIT in tests/programs/tracee.h
constexpr uint64_t kPage = 0xffffffffff600000ULL;
constexpr uint64_t kGettimeofday = kPage + 0x000;
constexpr uint64_t kTime = kPage + 0x400;
constexpr uint64_t kGetcpu = kPage + 0x800;

std::string hex(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

// rax as the handler prints it (signed decimal).
std::string dec(uint64_t v) {
  return std::to_string(static_cast<int64_t>(v));
}

Outcome ok(std::vector<std::string> lines) {
  return Outcome{false, 0, std::move(lines)};
}
Outcome exits(int code, std::vector<std::string> lines) {
  return Outcome{false, code, std::move(lines)};
}
Outcome killed(int sig, std::vector<std::string> lines = {}) {
  return Outcome{true, sig, std::move(lines)};
}
// The SA_SIGINFO handler caught a signal and printed these fields.
Outcome caught(const std::string& fields) {
  return Outcome{false, kHandlerExit, {"SIGNAL " + fields}};
}

// vsyscall=none: executing the page faults like any unmapped address — SEGV_MAPERR,
// si_addr = rip = cr2 = the target, an instruction-fetch error code (0x15: the kernel adds the
// protection bit above TASK_SIZE_MAX), trap 14. `marked`: the call came from an assembly
// helper that loaded rax = target and marked the stack.
std::string none_call(uint64_t target, bool marked) {
  std::string f = "sig=11 code=1 addr=" + hex(target) + " rip=" + hex(target) +
                  " err=0x15 ifetch=1 trapno=14 cr2=" + hex(target);
  if (marked) f += " rsp_delta=0 rax=" + dec(target);
  return f;
}
// xonly/emulate: a call into the page that is not an entry — SIGSEGV SI_KERNEL, si_addr 0,
// registers as they were (rip = target, return address still pushed, rax = target).
std::string refused_call(uint64_t target) {
  return "sig=11 code=128 addr=0x0 rip=" + hex(target) + " rsp_delta=0 rax=" + dec(target);
}
// A data read of the page that faults (none, xonly): SEGV_MAPERR at the address read, at
// the reading instruction.
std::string read_fault(uint64_t addr) {
  return "sig=11 code=1 addr=" + hex(addr) + " rip=insn ifetch=0 trapno=14";
}
// The same, from inside libc's memcmp/memcpy: the first address touched depends on libc.
const char* kLibcReadFault = "sig=11 code=1 addr=0xffffffffff60* ifetch=0 trapno=14";

std::array<Outcome, 4> modes(Outcome none, Outcome xonly, Outcome emulate, Outcome native) {
  return {std::move(none), std::move(xonly), std::move(emulate), std::move(native)};
}
// Calls at an entry: none faults, the three other modes all give `works`.
std::array<Outcome, 4> entry_call(Outcome none, const Outcome& works) {
  return {std::move(none), works, works, works};
}

std::vector<Row> build() {
  std::vector<Row> rows;
  auto add = [&rows](std::string name, std::string program, std::vector<std::string> args,
                     std::array<Outcome, 4> expect, unsigned flags = 0) {
    rows.push_back(
        Row{std::move(name), std::move(program), std::move(args), std::move(expect), flags});
  };

  // --- the three entries from C, through function pointers ---
  add("call_entries_gettimeofday", "call_entries", {"gettimeofday"},
      entry_call(caught(none_call(kGettimeofday, false)), ok({"OK gettimeofday calls=1"})));
  add("call_entries_time", "call_entries", {"time"},
      entry_call(caught(none_call(kTime, false)), ok({"OK time calls=1"})));
  add("call_entries_getcpu", "call_entries", {"getcpu"},
      entry_call(caught(none_call(kGetcpu, false)), ok({"OK getcpu calls=1"})));
  add("call_entries_null_args", "call_entries", {"null"},
      entry_call(caught(none_call(kGettimeofday, false)), ok({"OK null_args"})));
  add("call_entries_getcpu_cache_ignored", "call_entries", {"getcpu_cache"},
      entry_call(caught(none_call(kGetcpu, false)), ok({"OK getcpu_cache_ignored"})));
  add("call_entries_gettimeofday_x3", "call_entries", {"gettimeofday", "3"},
      entry_call(caught(none_call(kGettimeofday, false)), ok({"OK gettimeofday calls=3"})));
  add("call_entries_nohandler_gettimeofday", "call_entries", {"-n", "gettimeofday"},
      entry_call(killed(11), ok({"OK gettimeofday calls=1"})));

  // --- the exact instruction sequences of static glibc <= 2.14 ---
  add("glibc_gettimeofday_call", "glibc_sequences", {"gettimeofday_call"},
      entry_call(caught(none_call(kGettimeofday, true)), ok({"OK old_gettimeofday"})));
  add("glibc_time_tailcall", "glibc_sequences", {"time_tailcall"},
      entry_call(caught(none_call(kTime, true)), ok({"OK old_time"})));
  add("glibc_getcpu_call", "glibc_sequences", {"getcpu_call"},
      entry_call(caught(none_call(kGetcpu, true)), ok({"OK old_getcpu"})));
  add("glibc_nohandler_time_tailcall", "glibc_sequences", {"-n", "time_tailcall"},
      entry_call(killed(11), ok({"OK old_time"})));

  // --- registers across a call: emulation changes only rax/rip/rsp; the native page code's
  // `syscall` leaves rcx = entry + 9 and r11 = rflags ---
  for (auto [what, entry] : {std::pair<const char*, uint64_t>{"gettimeofday", kGettimeofday},
                             {"time", kTime},
                             {"getcpu", kGetcpu}}) {
    const std::string kept =
        "REGS rcx=kept r11=kept rdx=kept rdi=kept rsi=kept r8=kept r9=kept r10=kept flags=kept";
    const std::string native = "REGS rcx=" + hex(entry + 9) +
                               " r11=flags rdx=kept rdi=kept rsi=kept r8=kept r9=kept r10=kept "
                               "flags=kept";
    add(std::string("preserve_regs_") + what, "preserve_regs", {what},
        modes(caught(none_call(entry, true)), ok({kept, "OK preserve_regs"}),
              ok({kept, "OK preserve_regs"}), ok({native, "OK preserve_regs"})));
  }

  // --- pointers the kernel refuses. Kernel half: access_ok() fails before the call,
  // SEGV_MAPERR at the pointer, rip at the entry, err 0x6 (user write), trap 14, cr2 = the
  // pointer. User pointer faulting during the call:
  // SI_KERNEL, rip at the entry, rax = -ENOSYS (set before seccomp is consulted).
  // Native: a real syscall returns -EFAULT. ---
  const std::string kKernelPtr = "0xffff800000000000";
  for (auto [name, entry] : {std::pair<const char*, uint64_t>{"gtod_kernel_tv", kGettimeofday},
                             {"gtod_kernel_tz", kGettimeofday},
                             {"time_kernel", kTime},
                             {"getcpu_kernel_node", kGetcpu}}) {
    add(std::string("bad_pointers_") + name, "bad_pointers", {name},
        modes(caught(none_call(entry, true)),
              caught("sig=11 code=1 addr=" + kKernelPtr + " rip=" + hex(entry) +
                     " rsp_delta=0 err=0x6 trapno=14 cr2=" + kKernelPtr + " rax=" + dec(entry)),
              caught("sig=11 code=1 addr=" + kKernelPtr + " rip=" + hex(entry) +
                     " rsp_delta=0 err=0x6 trapno=14 cr2=" + kKernelPtr + " rax=" + dec(entry)),
              ok({"RETURNED rax=-14"})));
  }
  for (auto [name, entry] : {std::pair<const char*, uint64_t>{"gtod_unmapped", kGettimeofday},
                             {"gtod_readonly", kGettimeofday},
                             {"time_readonly", kTime},
                             {"getcpu_unmapped", kGetcpu}}) {
    const std::string f = "sig=11 code=128 addr=0x0 rip=" + hex(entry) + " rsp_delta=0 rax=-38";
    add(std::string("bad_pointers_") + name, "bad_pointers", {name},
        modes(caught(none_call(entry, true)), caught(f), caught(f), ok({"RETURNED rax=-14"})),
        kUserFaultSince69);
  }

  // --- calls into the page that are not entries. Native runs the image bytes: +1 is
  // `mov $0x60,%eax; syscall; ret`, +7 `syscall; ret` with rax = the target (-ENOSYS),
  // +9 `ret`, +0x401 `mov $0xc9,%eax; syscall; ret`, 0xcc is int3 (SIGTRAP SI_KERNEL with rip
  // after it, trap 3). ---
  auto int3 = [](uint64_t target) {
    return caught("sig=5 code=128 addr=0x0 rip=" + hex(target + 1) + " rsp_delta=0 trapno=3");
  };
  struct Misaligned {
    const char* name;
    uint64_t target;
    Outcome native;
  };
  for (const Misaligned& m : {
           Misaligned{"plus1", kPage + 0x1, ok({"RETURNED rax=0"})},
           Misaligned{"plus7", kPage + 0x7, ok({"RETURNED rax=-38"})},
           Misaligned{"plus9", kPage + 0x9, ok({"RETURNED rax=" + dec(kPage + 0x9)})},
           Misaligned{"plus10", kPage + 0x10, int3(kPage + 0x10)},
           Misaligned{"plus401", kPage + 0x401, ok({"RETURNED time_ok=1"})},
           Misaligned{"plusc00", kPage + 0xc00, int3(kPage + 0xc00)},
       }) {
    add(std::string("misaligned_") + m.name, "misaligned", {m.name},
        modes(caught(none_call(m.target, true)), caught(refused_call(m.target)),
              caught(refused_call(m.target)), m.native));
  }
  add("misaligned_nohandler_plus10", "misaligned", {"-n", "plus10"},
      modes(killed(11), killed(11), killed(11), killed(5)));

  // --- data reads: fault in none/xonly, return the page image in emulate/native ---
  struct Read {
    const char* name;
    uint64_t addr;  // 0: inside libc, address not fixed
    std::string result;
  };
  for (const Read& r : {
           Read{"movb", kPage + 0x000, "OK read_movb value=0x48"},
           Read{"movw", kPage + 0x403, "OK read_movw value=0xc9"},
           Read{"movl", kPage + 0x800, "OK read_movl value=0x35c0c748"},
           Read{"movq", kPage + 0x000, "OK read_movq value=0xf00000060c0c748"},
           Read{"movq_r13", kPage + 0x400, "OK read_movq_r13 value=0xf000000c9c0c748"},
           Read{"movabs", kPage + 0x808, "OK read_movabs value=0xccccccccccccc305"},
           Read{"sib", kPage + 0x400, "OK read_sib value=0xf000000c9c0c748"},
           Read{"movdqu", kPage + 0x400, "OK read_movdqu bytes=48c7c0c90000000f05c3cccccccccccc"},
           Read{"vmovdqu", kPage + 0x7f0,
                "OK read_vmovdqu bytes=cccccccccccccccccccccccccccccccc"
                "48c7c0350100000f05c3cccccccccccc"},
           Read{"cmpb", kPage + 0x000, "OK read_cmpb equal=1"},
           Read{"cmpq", kPage + 0x800, "OK read_cmpq equal=1"},
           Read{"memcmp", 0, "OK read_memcmp equal=1"},
           Read{"memcmp16", 0, "OK read_memcmp16 equal=1"},
           Read{"memcpy", 0, "OK read_memcpy equal=1"},
           Read{"memcpy40", 0, "OK read_memcpy40 equal=1"},
       }) {
    Outcome fault = caught(r.addr != 0 ? read_fault(r.addr) : kLibcReadFault);
    add(std::string("read_page_") + r.name, "read_page", {r.name},
        modes(fault, fault, ok({r.result}), ok({r.result})), kReadsPage);
  }
  add("read_page_nohandler_movq", "read_page", {"-n", "movq"},
      modes(killed(11), killed(11), ok({"OK read_movq value=0xf00000060c0c748"}),
            ok({"OK read_movq value=0xf00000060c0c748"})),
      kReadsPage);

  // --- writes fault in every mode ---
  {
    Outcome b = caught("sig=11 code=1 addr=0xffffffffff600010 rip=insn ifetch=0 trapno=14");
    Outcome q = caught("sig=11 code=1 addr=0xffffffffff600400 rip=insn ifetch=0 trapno=14");
    add("write_page_movb", "write_page", {"movb"}, modes(b, b, b, b));
    add("write_page_movq", "write_page", {"movq"}, modes(q, q, q, q));
    add("write_page_nohandler_movb", "write_page", {"-n", "movb"},
        modes(killed(11), killed(11), killed(11), killed(11)));
  }

  // --- the program's own seccomp filter applies to its vsyscalls. An emulated call: ERRNO
  // returns -e; TRAP gives SIGSYS with si_call_addr = the entry after the emulated ret
  // (rip = return address, rax = the syscall number from the rollback). Native: the real
  // `syscall` at entry+7 is filtered, so si_call_addr = rip = entry + 9. ---
  add("seccomp_self_errno", "seccomp_self", {"errno"},
      entry_call(caught(none_call(kGettimeofday, true)), ok({"OK seccomp_errno rax=-42"})));
  add("seccomp_self_trap", "seccomp_self", {"trap"},
      modes(caught(none_call(kGettimeofday, true)),
            caught("sig=31 code=1 addr=0xffffffffff600000 rip=ret rsp_delta=8 rax=96 syscall=96"),
            caught("sig=31 code=1 addr=0xffffffffff600000 rip=ret rsp_delta=8 rax=96 syscall=96"),
            caught("sig=31 code=1 addr=0xffffffffff600009 rip=0xffffffffff600009 rsp_delta=0 "
                   "rax=96 syscall=96")));
  add("seccomp_self_kill", "seccomp_self", {"kill"},
      entry_call(caught(none_call(kGettimeofday, true)), killed(31)), kOwnSeccompKill);

  // --- the program single-steps itself (TF) through a call of the time entry: the `call`
  // traps at the entry; an emulating kernel then runs the whole entry as one step, a native
  // kernel's CPU traps after the page's mov, syscall and ret (the last at the return
  // address). Every trap is a debug trap: TRAP_TRACE, trapno 1, error code 0. ---
  add("single_step_time", "single_step", {},
      modes(caught(none_call(kTime, true)),
            ok({"OK single_step in_page=0x400 ret_trap=0 time=ok traps=debug"}),
            ok({"OK single_step in_page=0x400 ret_trap=0 time=ok traps=debug"}),
            ok({"OK single_step in_page=0x400,0x407,0x409 ret_trap=1 time=ok traps=debug"})));

  // --- the program's own SECCOMP_RET_TRACE: it has no tracer, so the kernel answers -ENOSYS
  // without running the call, vsyscalls included; none faults before seccomp is consulted ---
  add("seccomp_trace_untraced", "seccomp_trace", {},
      entry_call(caught(none_call(kGettimeofday, true)),
                 ok({"OK seccomp_trace getpid=-38 openat=-38 time=-38 vsyscall=-38"})));

  // --- clone(CLONE_UNTRACED): the child is traced all the same (vdsorun clears the flag),
  // so its vsyscalls behave as the mode says; with the flag it would keep vdsorun's filter
  // without a tracer and get -ENOSYS. In none mode the child's handler reports the fault and
  // exits 66, which the parent reports. ---
  add("clone_untraced", "clone_untraced", {},
      entry_call(ok({"SIGNAL " + none_call(kGettimeofday, true), "OK clone_untraced child=exit66"}),
                 ok({"CHILD time=ok vsyscall=0", "OK clone_untraced child=exit0"})));

  // --- concurrency, fork, exec, vfork, a shell ---
  add("threads_8x3400", "threads", {"8", "3400"},
      entry_call(caught(none_call(kGettimeofday, false)), ok({"OK threads n=8 calls=81600"})));
  add("exec_chain_3", "exec_chain", {"3", "5"},
      entry_call(killed(11), exits(5, {"OK exec_chain depth=3", "OK exec_chain depth=2",
                                       "OK exec_chain depth=1", "OK exec_chain depth=0"})));
  add("fork_exec_3", "fork_exec", {"3"},
      entry_call(killed(11, {"CHILD0 signal=11", "CHILD1 signal=11", "CHILD2 signal=11"}),
                 ok({"CHILD0 exit=10", "CHILD1 exit=11", "CHILD2 exit=12", "OK fork_exec",
                     "OK parent_time"})));
  add("vfork_exec", "vfork_exec", {},
      entry_call(killed(11, {"CHILD signal=11"}),
                 ok({"CHILD exit=42", "OK vfork_exec", "OK parent_time"})));
  add("several_sh", "several.sh", {},
      entry_call(exits(1, {"STEP call_entries status=66", "STEP glibc_sequences status=66",
                           "STEP preserve_regs status=66", "STEP exec_chain status=139",
                           "STEP threads status=66", "STEP pipeline lines=1", "SCRIPT_FAIL"}),
                 ok({"STEP call_entries status=0", "STEP glibc_sequences status=0",
                     "STEP preserve_regs status=0", "STEP exec_chain status=0",
                     "STEP threads status=0", "STEP pipeline lines=1", "OK script"})),
      kScript);
  return rows;
}

}  // namespace

const std::vector<Row>& matrix_rows() {
  static const std::vector<Row> rows = build();
  return rows;
}

}  // namespace integration
