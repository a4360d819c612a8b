// The ptrace event loop: every thread of every traced process, from the first exec until the
// last one is gone. Only rare events stop the program (DESIGN.md 2, 3.1).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/disasm.h"
#include "emulator/report.h"
#include "emulator/signal_frame.h"
#include "emulator/spawn.h"
#include "emulator/time_source.h"
#include "emulator/vdso_injector.h"
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
  enum class Pending {
    kNone,
    kFetchFaultInterrupt,
    kFetchFaultTrap,
    kInt3Trap
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
};

class Engine {
 public:
  Engine(const EngineOptions& opts, Report& report);
  ~Engine();
  // Runs until every tracee is gone; returns the main program's wait status.
  int run(const SpawnedProgram& program);

 private:
  Tracee& tracee(pid_t tid);
  pid_t tgid_of(Tracee& t);
  ProcessReport& image_of(Tracee& t);
  Resume on_stop(Tracee& t, int status);
  Resume on_signal_stop(Tracee& t, int sig);
  void on_exec(Tracee& t);
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
  void record_call(Tracee& t, uint64_t target, uint64_t return_address, const std::string& outcome);
  void amend_call(Tracee& t, uint64_t target, uint64_t return_address, const std::string& from,
                  const std::string& to);
  void record_read(Tracee& t, uint64_t rip, const std::string& outcome, const std::string& insn);
  // Where emulated calls take their values: the injected vvar if there is one, else the kernel.
  std::unique_ptr<HostTimeSource> time_source(pid_t tid) const;
  CodeSite describe_site(pid_t pid, uint64_t addr, bool is_return_address);

  EngineOptions opts_;
  Report& report_;
  Disassembler disasm_;
  std::unordered_map<pid_t, Tracee> tracees_;
  // Per process: where its read-only copy of the page image is (displaced reads), 0 if none.
  std::unordered_map<pid_t, uint64_t> shadow_pages_;
  pid_t main_pid_ = 0;
  int main_status_ = 0;
  bool main_done_ = false;
  // Seccomp filters every tracee has without adding its own: vdsorun's own plus ours.
  long inherited_filters_ = 1;
};

}  // namespace emulator
