// The ptrace event loop: every thread of every traced process, from the first exec until the
// last one is gone. Only rare events stop the program (DESIGN.md 2, 3.1).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/inject/call_patcher.h"
#include "emulator/others_stopped.h"
#include "emulator/trace/attach.h"
#include "emulator/trace/process.h"
#include "emulator/report/disasm.h"
#include "emulator/report/recorder.h"
#include "emulator/report/report.h"
#include "emulator/trace/spawn.h"
#include "emulator/clock/time_source.h"
#include "emulator/clock/time_transform.h"
#include "emulator/inject/host_vdso.h"
#include "emulator/inject/vdso_injector.h"
#include "emulator/trace/signal_frame.h"
#include "vdso/vvar.h"
#include "vsyscall/call.h"
#include "vsyscall/cpu_state.h"
#include "vsyscall/mode.h"

namespace emulator {

enum class VdsoMode { kInject, kHost, kNone };
std::string_view vdso_mode_name(VdsoMode m);

struct EngineOptions {
  vsyscall::Mode mode = vsyscall::Mode::kEmulate;
  vsyscall::HostMode host = vsyscall::HostMode::kXonly;
  VdsoMode vdso = VdsoMode::kInject;
  // Stop this process (the tracer) when the main program group-stops, so that a shell's job
  // control sees the job stop (set when vdsorun runs in a terminal's foreground).
  bool mirror_job_control = false;
  // With VdsoMode::kInject: what to map into every new 64-bit image.
  std::optional<InjectionAssets> inject;
  // The supervisor's view of the injected vvar: emulated gettimeofday/time read their clock
  // from it so that they agree with the injected vDSO (null: the kernel's clock).
  const vdso::Vvar* vvar = nullptr;
  // Patch hot call sites (--patch=auto): after a site's first call, it calls a trampoline
  // into the injected vDSO instead of the page. Needs an injected vDSO; never in mode none.
  bool patch = true;
  // The tree's virtual clocks (--time, --rate...): every clock read and timed wait the
  // program makes goes through it. Identity: nothing is stopped for it.
  ClockTransform time;
  // With VdsoMode::kHost and a transform: the kernel's vDSO, whose clock functions become
  // syscalls in every new image (HostVdso::syscall_stubs).
  std::optional<HostVdso> host_vdso;
  // Attach mode (vdsorun -p): the processes ran before vdsorun came and must run on without
  // it. There is no filter of ours; patched sites of a running image call its own (kernel)
  // vDSO; at the end vdsorun detaches instead of waiting for the tree to end.
  bool attached = false;
  // Attach mode: becomes non-zero (the signal that asked) when vdsorun is to detach. The
  // caller also makes the engine thread's waitpid() return EINTR then, and every few
  // milliseconds while detaching, so that the request is seen promptly.
  const std::atomic<int>* detach_request = nullptr;
};

// How a stopped thread is resumed.
struct Resume {
  // kStep: PTRACE_SINGLESTEP delivering `sig`, so that the next stop is at its handler with
  // the frame built (Tracee::frame_fix).
  enum class Kind { kCont, kListen, kSyscall, kStep, kNothing };
  Kind kind = Kind::kCont;
  int sig = 0;
  static Resume cont(int sig = 0) { return {Kind::kCont, sig}; }
};

// Per-thread bookkeeping.
struct Tracee {
  pid_t tid = 0;
  pid_t tgid = 0;  // 0 until known
  // A `none`-mode call caught after the kernel already emulated its `ret` (seccomp path) or
  // a kernel-raised SIGSEGV that must look like an instruction fetch fault: phase 1 waits for
  // the interrupt stop and points rip at the trap address; phase 2 waits for the fault there
  // and turns it into a fault at `fetch_addr`.
  // kInt3Trap: native mode ran into an int3 (0xcc) of the page; we made the CPU execute a
  // real int3 at `borrowed_addr` (so the sigcontext says trap 3) and wait for its SIGTRAP.
  // kRewoundCall: a patched call that faulted in the trampoline first reads address 0 (its
  // SIGSEGV is stepped over at `fetch_addr`) and divides by zero (clearing the thread's cr2,
  // trap number and error code); at the SIGFPE the call in `saved` goes the slow way.
  enum class Pending {
    kNone,
    kFetchFaultInterrupt,
    kFetchFaultTrap,
    kInt3Trap,
    kRewoundCall
  } pending = Pending::kNone;
  uint64_t fetch_addr = 0;
  // A signal vdsorun raised was delivered by single-stepping into its handler: at the next
  // stop, write these err/trapno/cr2 into the frame (signal_frame.h) if it is that frame.
  std::optional<FaultArchInfo> frame_fix;
  int frame_fix_sig = 0;
  uint64_t frame_fix_rip = 0;
  // Native mode, TF set by the program: the fetch fault kFetchFaultTrap waits for is the
  // single-step trap after the entry's `mov` (native_step_entry), not a SIGSEGV.
  bool step_trap = false;
  uint64_t borrowed_addr = 0;
  uint8_t borrowed_byte = 0;
  vsyscall::Gpr saved{};
  // The call the host kernel was last left to emulate (seccomp pass-through). If the next
  // stop is that call's SIGSEGV (a pointer that faulted), the report moves it from
  // "emulated" to "SIGSEGV" instead of counting a second call.
  uint64_t passed_call_target = 0;
  uint64_t passed_call_return = 0;
  // Signals suppressed while vdsorun ran code in the thread, sent again with tgkill: at their
  // signal-delivery-stop the original siginfo is put back.
  std::vector<siginfo_t> requeued;
  // A vsyscall run as a real syscall in the program (none host, program with its own seccomp
  // filters): a SIGSYS its filter raises names our borrowed `syscall` instead of the entry.
  uint64_t remote_call_from = 0;
  uint64_t remote_call_entry = 0;
  // A call answered at a stop whose site is to be patched at the thread's next interrupt stop
  // (at a seccomp stop the kernel forbids running anything else): return address, entry.
  uint64_t patch_return = 0;
  vsyscall::Entry patch_entry = vsyscall::Entry::kGettimeofday;
  // A timed wait whose arguments vdsorun rewrote (time_stops.cc): at its syscall-exit stop
  // the registers are put back and what the kernel wrote is converted to virtual time.
  struct TimeExit {
    long nr = 0;
    vsyscall::Gpr regs{};  // the registers at the call, as the program made it
    // Where the kernel writes a remaining time or an old timer value in real units (in the
    // scratch), and where the program wants it in virtual units; 0 when nothing is written.
    uint64_t kernel_out = 0;
    uint64_t program_out = 0;
    int clock = 1;  // whose rate converts it
    int out_kind = 0;  // time_stops.cc: kTimespec, kTimeval, kItimerspec, kItimerval
  };
  std::optional<TimeExit> time_exit;
};

class Engine {
 public:
  Engine(const EngineOptions& opts, Report& report);
  ~Engine();
  // Runs until every tracee is gone; returns the main program's wait status.
  int run(const SpawnedProgram& program);
  // Attach mode: serves the seized processes (attach_to()) and everything they start until
  // all have ended or a detach is requested, then detaches from every thread so that each
  // goes on as if never traced (a group-stop stays a group-stop, pending signals stay
  // pending). Returns 0 if they all ended, else the signal that asked for the detach.
  int run_attached(const std::vector<AttachedProcess>& processes);

 private:
  Tracee& tracee(pid_t tid);
  Process& process(pid_t pid) { return processes_[pid]; }
  pid_t tgid_of(Tracee& t);
  ProcessReport& image_of(Tracee& t);
  // waitpid(-1) in rounds until no tracee is left.
  void loop();
  // One wait report: an exit, or a stop answered and resumed.
  void serve(pid_t tid, int status);
  // Attach mode: asks every thread for an interrupt stop, at which it is detached.
  void begin_detach();
  // While detaching: detaches t if this stop is one it can be left at; true if it did.
  bool detach_if_clean(Tracee& t, int status);
  // The kernel vDSO functions of a running image of process `pid`, for patched sites.
  std::optional<vsyscall::VdsoFunctions> own_vdso_functions(pid_t pid) const;
  Resume on_stop(Tracee& t, int status);
  Resume on_signal_stop(Tracee& t, int sig);
  void on_exec(Tracee& t);
  // A fork (or a clone that made a process): the child's memory is a copy of the parent's.
  void on_new_process(pid_t parent, pid_t child);
  // clone(CLONE_UNTRACED) stopped by our filter: clears the flag; false if this stop is not
  // that.
  bool on_untraced_clone(Tracee& t);
  void apply(pid_t tid, const Resume& r);
  // Sends signals taken out of the way while vdsorun ran code in the thread again; their
  // original siginfo is put back at their signal-delivery-stop.
  void requeue(Tracee& t, const std::vector<siginfo_t>& signals);
  void stop_self_like(int sig);

  // vsyscall_stops.cc: stops that concern the legacy page.
  Resume on_seccomp(Tracee& t);
  // nullopt: this SIGSEGV has nothing to do with the page; deliver it as is.
  std::optional<Resume> on_sigsegv(Tracee& t);
  Resume on_fetch_fault_interrupt(Tracee& t);
  // native_exec.cc: vsyscall=native running the page's bytes.
  Resume native_execute(Tracee& t, vsyscall::Gpr regs, siginfo_t si);
  Resume native_syscall(Tracee& t, vsyscall::Gpr regs, uint64_t entry_addr);
  Resume native_int3(Tracee& t, const vsyscall::Gpr& regs, uint64_t int3_addr);
  std::optional<Resume> on_sigtrap(Tracee& t);
  // Native mode under the program's own single-stepping (TF): the page's instructions run one
  // at a time, each followed by the SIGTRAP a native kernel's CPU raises.
  Resume native_step_entry(Tracee& t, const vsyscall::Gpr& regs, vsyscall::Entry entry);
  Resume native_step_trap(Tracee& t, const vsyscall::Gpr& regs);
  std::optional<Resume> on_sigsys(Tracee& t);
  uint64_t caller_rax(pid_t tid, uint64_t entry, uint64_t return_address);
  bool has_own_seccomp_filters(pid_t tid) const;
  Resume call_through_program_filters(Tracee& t, vsyscall::Gpr regs, vsyscall::Entry entry,
                                      siginfo_t si, uint64_t return_address,
                                      vsyscall::CallFlavor flavor);
  Resume emulate_read_at(Tracee& t, const vsyscall::Gpr& regs, siginfo_t si);
  // The recorder's calls for thread t's process.
  void record_call(Tracee& t, uint64_t target, uint64_t return_address, Outcome o);
  void amend_call(Tracee& t, uint64_t target, uint64_t return_address, Outcome from, Outcome to);
  void record_read(Tracee& t, uint64_t rip, Outcome o, const std::string& insn,
                   const std::string& reason = "");
  // Where emulated calls take their values: the injected vvar if there is one, else the kernel.
  std::unique_ptr<HostTimeSource> time_source(pid_t tid) const;

  // time_stops.cc: clock reads and timed waits of a tree with virtual clocks (--time...).
  // At their seccomp stop: reads are answered, waits get the real deadline or duration
  // and, where something must be put back or converted, a syscall-exit stop.
  Resume on_time_call(Tracee& t, const vsyscall::Gpr& regs);
  Resume on_time_call_exit(Tracee& t);

  // patch_stops.cc: call-site patching.
  // After a call from `return_address` to `entry` was answered: patch its site soon.
  void patch_later(Tracee& t, vsyscall::Entry entry, uint64_t return_address);
  void patch_now(Tracee& t);
  // A SIGSEGV on a trampoline's copy: the call, rewound to the entry, runs again the slow way.
  std::optional<Resume> rewind_patched_call(Tracee& t, const vsyscall::Gpr& regs);
  std::optional<Resume> on_rewound_call_trap(Tracee& t, int sig);
  // The program installs a seccomp filter of its own: its calls go through the page again.
  void on_seccomp_install(Tracee& t);
  // Stops every other thread of process `pid`; the function returned resumes them. Stops of
  // other kinds met on the way are kept for the loop (reaped_). Needed wherever vdsorun
  // borrows code bytes of a multi-threaded program (another thread would run them) or
  // rewrites its code.
  std::function<void()> stop_other_threads(pid_t pid, pid_t self);
  OthersStopped others_stopped(pid_t pid, pid_t self) {
    return OthersStopped(stop_other_threads(pid, self));
  }
  // Adds the calls patched sites made without a stop to the report.
  void count_patched_calls();

  EngineOptions opts_;
  bool warned_clock_set_ = false;  // time_stops.cc: one warning per run
  Report& report_;
  Recorder recorder_{report_};
  Disassembler disasm_;
  std::unordered_map<pid_t, Tracee> tracees_;
  // Per process (thread group id): its state for the current image.
  std::unordered_map<pid_t, Process> processes_;
  pid_t main_pid_ = 0;
  int main_status_ = 0;
  bool main_done_ = false;
  // Seccomp filters every tracee has without adding its own: vdsorun's own plus ours.
  long inherited_filters_ = 1;
  // Call-site patching (null when off; the state is in each Process); the injected vDSO's
  // functions relative to its base.
  std::unique_ptr<CallPatcher> patcher_;
  std::optional<vsyscall::VdsoFunctions> vdso_functions_;
  // Attach mode: the kernel vDSO's functions relative to its base (the same image in every
  // process of this kernel, read from vdsorun's own copy).
  std::optional<vsyscall::VdsoFunctions> kernel_vdso_functions_;
  // Attach mode: the seccomp filters each process (thread group) had when vdsorun attached,
  // inherited by the processes it forks: the environment's (a container's profile), not the
  // program's own, so they do not keep its call sites from being patched.
  std::unordered_map<pid_t, long> attach_filters_;
  // Attach mode, detaching: since when, and whether the stragglers were interrupted again.
  bool detaching_ = false;
  bool detach_forced_ = false;
  std::chrono::steady_clock::time_point detach_started_;
  struct PatchedSite {
    size_t image;  // Report image index
    vsyscall::Entry entry;
    uint64_t return_address;
    uint32_t counter;
  };
  std::vector<PatchedSite> patched_;
  // Wait statuses collected and not yet served: one round of the loop, plus the stops met
  // while stopping a process's threads. Their threads are stopped.
  std::deque<std::pair<pid_t, int>> reaped_;
};

}  // namespace emulator
