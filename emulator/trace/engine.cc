// The event loop: waitpid(-1, __WALL) over the whole tree, one decision per stop.
#include "emulator/trace/engine.h"

#include <elf.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "emulator/inject/auxv.h"
#include "emulator/log.h"
#include "emulator/trace/maps.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"
#include "emulator/trace/seccomp_policy.h"
#include "vdso/dynamic_symbols.h"
#include "vsyscall/decision.h"

namespace emulator {

std::string_view vdso_mode_name(VdsoMode m) {
  switch (m) {
    case VdsoMode::kInject:
      return "inject";
    case VdsoMode::kHost:
      return "host";
    case VdsoMode::kNone:
      return "none";
  }
  return "?";
}

namespace {

// Where the injected image's gettimeofday, time and getcpu are, relative to its base.
std::optional<vsyscall::VdsoFunctions> vdso_functions(std::span<const uint8_t> image) {
  auto syms = vdso::DynamicSymbols::parse(image, nullptr);
  if (!syms) return std::nullopt;
  auto gtod = syms->lookup("__vdso_gettimeofday", "LINUX_2.6");
  auto time = syms->lookup("__vdso_time", "LINUX_2.6");
  auto getcpu = syms->lookup("__vdso_getcpu", "LINUX_2.6");
  if (!gtod || !time || !getcpu) return std::nullopt;
  return vsyscall::VdsoFunctions{*gtod, *time, *getcpu};
}

}  // namespace

Engine::Engine(const EngineOptions& opts, Report& report) : opts_(opts), report_(report) {
  // "Seccomp_filters" needs Linux >= 5.9; without it nothing counts as the program's own.
  // Attached processes have no filter of ours.
  inherited_filters_ =
      proc_status_field(0, "Seccomp_filters").value_or(0) + (opts_.attached ? 0 : 1);
  if (opts_.patch && vsyscall::patches_call_sites(opts_.mode)) {
    if (opts_.vdso == VdsoMode::kInject && opts_.inject)
      vdso_functions_ = vdso_functions(opts_.inject->image);
    if (opts_.attached) {
      if (const unsigned long ehdr = getauxval(AT_SYSINFO_EHDR))
        kernel_vdso_functions_ = vdso_functions(
            vdso::DynamicSymbols::mapped_image(reinterpret_cast<const void*>(ehdr)));
    }
    if (vdso_functions_ || kernel_vdso_functions_) {
      patcher_ = std::make_unique<CallPatcher>(
          getpid(), opts_.mode == vsyscall::Mode::kNative ? vsyscall::TrampolineFlavor::kNative
                                                          : vsyscall::TrampolineFlavor::kEmulated);
      if (!patcher_->ok()) patcher_.reset();
    }
  }
}

std::optional<vsyscall::VdsoFunctions> Engine::own_vdso_functions(pid_t pid) const {
  if (!kernel_vdso_functions_) return std::nullopt;
  for (const MapEntry& m : read_maps(pid)) {
    if (m.path != "[vdso]") continue;
    return vsyscall::VdsoFunctions{m.start + kernel_vdso_functions_->gettimeofday,
                                   m.start + kernel_vdso_functions_->time,
                                   m.start + kernel_vdso_functions_->getcpu};
  }
  return std::nullopt;
}

bool Engine::has_own_seccomp_filters(pid_t tid) const {
  long baseline = inherited_filters_;
  if (opts_.attached) {
    const auto t = tracees_.find(tid);
    const pid_t pid = t != tracees_.end() && t->second.tgid ? t->second.tgid : tid;
    if (const auto b = attach_filters_.find(pid); b != attach_filters_.end()) baseline = b->second;
  }
  return proc_status_field(tid, "Seccomp_filters").value_or(-1) > baseline;
}
Engine::~Engine() = default;

Tracee& Engine::tracee(pid_t tid) {
  auto [it, inserted] = tracees_.try_emplace(tid);
  if (inserted) it->second.tid = tid;
  return it->second;
}

pid_t Engine::tgid_of(Tracee& t) {
  if (t.tgid) return t.tgid;
  t.tgid = static_cast<pid_t>(proc_status_field(t.tid, "Tgid").value_or(0));
  if (!t.tgid) t.tgid = t.tid;
  return t.tgid;
}

ProcessReport& Engine::image_of(Tracee& t) {
  const pid_t pid = tgid_of(t);
  if (!report_.has_image(pid)) {
    // First sight of a process (a fork child that stopped before its parent's fork event).
    char exe[4096];
    const std::string link = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = readlink(link.c_str(), exe, sizeof exe - 1);
    report_.new_image(pid, n > 0 ? std::string(exe, static_cast<size_t>(n)) : "?", "");
  }
  return report_.image(pid);
}

// Stops vdsorun with the same signal the program stopped with, so that the shell reports the
// job as the program would have been reported ("Stopped" vs "Stopped (signal)"), then returns
// once vdsorun is continued.
void Engine::stop_self_like(int sig) {
  if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
    kill(getpid(), SIGSTOP);
    return;
  }
  struct sigaction dfl {
  }, old{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, &old);
  kill(getpid(), sig);  // delivered before kill() returns: we stop here until SIGCONT
  sigaction(sig, &old, nullptr);
}

namespace {
// AT_SYSINFO_EHDR as the kernel gave it (/proc/PID/auxv), 0 if none.
uint64_t kernel_vdso_base(pid_t pid) {
  const auto auxv = read_text_file("/proc/" + std::to_string(pid) + "/auxv");
  if (!auxv) return 0;
  for (size_t i = 0; i + 16 <= auxv->size(); i += 16) {
    uint64_t type, value;
    std::memcpy(&type, auxv->data() + i, 8);
    std::memcpy(&value, auxv->data() + i + 8, 8);
    if (type == AT_SYSINFO_EHDR) return value;
    if (type == AT_NULL) break;
  }
  return 0;
}
}  // namespace

std::unique_ptr<HostTimeSource> Engine::time_source(pid_t tid) const {
  if (opts_.vvar) return std::make_unique<VvarTimeSource>(tid, opts_.vvar, &opts_.time);
  return std::make_unique<HostTimeSource>(tid, &opts_.time);
}

void Engine::requeue(Tracee& t, const std::vector<siginfo_t>& signals) {
  for (const siginfo_t& si : signals) {
    t.requeued.push_back(si);
    syscall(SYS_tgkill, tgid_of(t), t.tid, si.si_signo);
  }
}

void Engine::apply(pid_t tid, const Resume& r) {
  switch (r.kind) {
    case Resume::Kind::kCont:
      cont(tid, r.sig);
      break;
    case Resume::Kind::kListen:
      listen(tid);
      break;
    case Resume::Kind::kSyscall:
      syscall_cont(tid, r.sig);
      break;
    case Resume::Kind::kStep:
      single_step(tid, r.sig);
      break;
    case Resume::Kind::kNothing:
      break;
  }
}

int Engine::run(const SpawnedProgram& program) {
  main_pid_ = program.pid;
  Tracee& first = tracee(program.pid);
  first.tgid = program.pid;
  apply(program.pid, on_stop(first, program.exec_status));
  loop();
  if (patcher_) count_patched_calls();
  return main_status_;
}

void Engine::loop() {
  // Stops are served in rounds: block for one report, collect every other report already
  // waiting (WNOHANG), then serve them all in the order collected before collecting again.
  // Serving one report per waitpid(-1) starved threads: Linux scans the children in a fixed
  // order, so threads early in it that stop again at once were always served first (with
  // 1000 threads calling vsyscalls, one call waited for seconds). In rounds, a thread that is
  // stopped waits for at most one round, whatever the others do.
  // reaped_ holds one round; stops met while vdsorun stops a process's threads join it.
  while (true) {
    if (opts_.detach_request && !detaching_ && opts_.detach_request->load() != 0) begin_detach();
    if (reaped_.empty()) {
      int status = 0;
      pid_t tid = waitpid(-1, &status, __WALL);
      if (tid < 0) {
        if (errno == EINTR) {
          // Threads that cannot reach a stop where they may be left (a group-stop holds them
          // half-way through something of ours): ask once more, and leave them as they are.
          if (detaching_ && !detach_forced_ &&
              std::chrono::steady_clock::now() - detach_started_ > std::chrono::seconds(2)) {
            detach_forced_ = true;
            for (const auto& [t, unused] : tracees_) interrupt(t);
          }
          continue;
        }
        if (errno == ECHILD) break;
        throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
      }
      reaped_.emplace_back(tid, status);
      while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0) reaped_.emplace_back(tid, status);
    }
    const auto [tid, status] = reaped_.front();
    reaped_.pop_front();
    serve(tid, status);
  }
}

void Engine::serve(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    if (tid == main_pid_) {
      main_status_ = status;
      main_done_ = true;
    }
    tracees_.erase(tid);
    return;
  }
  if (!WIFSTOPPED(status)) return;
  Tracee& t = tracee(tid);
  if (detaching_ && detach_if_clean(t, status)) return;
  const Resume r = on_stop(t, status);
  apply(tid, r);
  // While detaching, a thread resumed after any stop but an interrupt stop is asked for
  // another, where it will be detached. Not after an interrupt stop: it must run first (an
  // interrupt requested now would stop it again before its first instruction), nor after a
  // single step (the step's trap comes first).
  if (detaching_ && (status >> 16) != PTRACE_EVENT_STOP &&
      (r.kind == Resume::Kind::kCont || r.kind == Resume::Kind::kSyscall))
    interrupt(tid);
}

Resume Engine::on_stop(Tracee& t, int status) {
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  if (auto fix = std::exchange(t.frame_fix, std::nullopt)) {
    // The stop after single-stepping a signal we raised into its handler (the kernel notifies
    // with SIGTRAP once the frame is built): ours, not the program's. Any other stop (the
    // frame could not be built, say) goes on as usual.
    if (event == 0 && sig == SIGTRAP) {
      patch_signal_frame(t.tid, t.frame_fix_sig, t.frame_fix_rip, *fix);
      return Resume::cont();
    }
  }
  if (t.pending == Tracee::Pending::kFetchFaultInterrupt &&
      !(event == PTRACE_EVENT_STOP && sig == SIGTRAP)) {
    // Something else stopped the thread before our interrupt did (a group-stop can): put the
    // call's registers in place now, so whatever runs next resumes at the fetch trap.
    on_fetch_fault_interrupt(t);
  }
  const uint64_t passed_target = std::exchange(t.passed_call_target, 0);
  if (passed_target && event == 0 && sig == SIGSEGV) t.passed_call_target = passed_target;
  if (event == 0 && sig == (SIGTRAP | 0x80) && t.time_exit) return on_time_call_exit(t);
  switch (event) {
    case 0:
      return on_signal_stop(t, sig);
    case PTRACE_EVENT_SECCOMP:
      if (on_untraced_clone(t)) return Resume::cont();
      return on_seccomp(t);
    case PTRACE_EVENT_EXEC:
      on_exec(t);
      return Resume::cont();
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: {
      auto child = get_event_msg(t.tid);
      if (child) {
        Tracee& c = tracee(static_cast<pid_t>(*child));
        if (event == PTRACE_EVENT_CLONE) {
          c.tgid = 0;  // a thread or a process: learnt from /proc when needed
          // A thread counts in its process's counters; a process made by clone() shares
          // the patched code it was cloned with.
          Process& parent = process(tgid_of(t));
          if (patcher_ && parent.patches.page) {
            if (tgid_of(c) != tgid_of(t))
              on_new_process(tgid_of(t), tgid_of(c));
            else
              patcher_->on_shared_counters(parent.patches, tgid_of(t));
          }
        } else {
          c.tgid = static_cast<pid_t>(*child);
          on_new_process(tgid_of(t), c.tgid);
          // A vfork child shares its parent's memory until it execs: a patch it made would
          // change the parent behind the parent's back.
          if (event == PTRACE_EVENT_VFORK) process(c.tgid).patches.disabled = true;
          // The child may already have stopped (and been recorded) before this event.
          if (!report_.has_image(c.tgid)) {
            // Copies: new_image() may move the parent's record.
            const std::string exe = image_of(t).executable, vdso = image_of(t).vdso;
            report_.new_image(c.tgid, exe, vdso);
          }
        }
      }
      return Resume::cont();
    }
    case PTRACE_EVENT_STOP:
      if (t.pending == Tracee::Pending::kFetchFaultInterrupt) return on_fetch_fault_interrupt(t);
      if (t.patch_return && sig == SIGTRAP) {
        patch_now(t);
        return Resume::cont();
      }
      if (sig == SIGTRAP) return Resume::cont();  // PTRACE_INTERRUPT or a new tracee's first stop
      // A group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): stay stopped but keep listening so
      // that SIGCONT (and SIGKILL) still work.
      if (t.tid == main_pid_ && opts_.mirror_job_control) {
        listen(t.tid);
        stop_self_like(sig);
        return {Resume::Kind::kNothing, 0};
      }
      return {Resume::Kind::kListen, 0};
    default:
      return Resume::cont();
  }
}

void Engine::on_new_process(pid_t parent, pid_t child) {
  if (const auto b = attach_filters_.find(parent); b != attach_filters_.end())
    attach_filters_[child] = b->second;
  Process& p = process(parent);
  Process& c = processes_[child] = p;
  // The child's calls count at the parent's sites, in the same shared counters.
  if (patcher_ && p.patches.page) {
    patcher_->on_shared_counters(p.patches, parent);
    patcher_->on_shared_counters(c.patches, child);
  }
}

Resume Engine::on_signal_stop(Tracee& t, int sig) {
  for (auto it = t.requeued.begin(); it != t.requeued.end(); ++it) {
    if (it->si_signo == sig) {
      set_siginfo(t.tid, *it);
      t.requeued.erase(it);
      break;
    }
  }
  if ((sig == SIGFPE || sig == SIGSEGV) && t.pending == Tracee::Pending::kRewoundCall) {
    if (auto r = on_rewound_call_trap(t, sig)) return *r;
  }
  if (sig == SIGSEGV) {
    if (auto r = on_sigsegv(t)) return *r;
  } else if (sig == SIGTRAP && t.pending == Tracee::Pending::kInt3Trap) {
    if (auto r = on_sigtrap(t)) return *r;
  } else if (sig == SIGSYS) {
    if (auto r = on_sigsys(t)) return *r;
  }
  return Resume::cont(sig);
}

bool Engine::on_untraced_clone(Tracee& t) {
  const auto data = get_event_msg(t.tid);
  if (!data || *data != kTraceDataUntracedClone) return false;
  auto regs = get_regs(t.tid);
  if (!regs || regs->orig_rax != SYS_clone || (regs->rdi & CLONE_UNTRACED) == 0) return false;
  // The child would keep our filter with no tracer, and its vsyscalls would fail (-ENOSYS).
  // Without the flag it is followed like any child (a fork or clone event); the kernel runs
  // the filters again with the new flags after this stop.
  vsyscall::Gpr w = *regs;
  w.rdi &= ~static_cast<uint64_t>(CLONE_UNTRACED);
  set_regs(t.tid, w);
  VDSORUN_LOG(kDebug, "pid %d: clone(CLONE_UNTRACED): flag cleared, the child is traced", t.tid);
  return true;
}

void Engine::on_exec(Tracee& t) {
  // A non-leader exec: the thread took the leader's tid; its old tid is gone silently.
  if (auto former = get_event_msg(t.tid); former && static_cast<pid_t>(*former) != t.tid)
    tracees_.erase(static_cast<pid_t>(*former));
  // tracees_.erase may have rehashed: look ourselves up again.
  Tracee& self = tracee(t.tid);
  self.tgid = self.tid;
  self.pending = Tracee::Pending::kNone;
  self.patch_return = 0;
  processes_[self.tid] = Process{};  // the old image's mappings are gone
  std::optional<vsyscall::VdsoFunctions> patch_into;
  char exe[4096];
  std::string path = "/proc/" + std::to_string(self.tid) + "/exe";
  ssize_t n = readlink(path.c_str(), exe, sizeof exe - 1);
  std::string executable = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "?";
  std::string vdso_note = "host vDSO";
  auto regs = get_regs(self.tid);
  // A 32-bit image (cs 0x23) has no vsyscall page and its own 32-bit vDSO: left alone.
  constexpr uint64_t kUser32CodeSelector = 0x23;
  if (regs && regs->cs == kUser32CodeSelector) {
    vdso_note = "32-bit image: untouched";
  } else if (opts_.vdso == VdsoMode::kNone) {
    vdso_note = rewrite_sysinfo_ehdr(self.tid, std::nullopt).has_value()
                    ? "AT_SYSINFO_EHDR removed"
                    : "no AT_SYSINFO_EHDR to remove";
  } else if (opts_.vdso == VdsoMode::kHost && opts_.time.active() && opts_.host_vdso) {
    // The kernel's vDSO reads the real clock without a syscall: its clock functions become
    // syscalls, which the filter stops and answers in the tree's time.
    const uint64_t base = kernel_vdso_base(self.tid);
    size_t written = 0;
    const auto stubs = opts_.host_vdso->syscall_stubs(base);
    for (const auto& stub : stubs) written += ProcessMemory(self.tid).poke(stub.addr, stub.bytes);
    vdso_note = written == stubs.size() && written > 0
                    ? "host vDSO (clock functions made syscalls for the virtual clock)"
                    : "host vDSO (its clock functions could not be redirected: real time)";
  } else if (opts_.vdso == VdsoMode::kInject && opts_.inject) {
    std::string why;
    std::vector<siginfo_t> deferred;
    if (auto inj = inject_vdso(self.tid, *opts_.inject, deferred, why)) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "vdsorun vDSO at %#llx, vvar at %#llx (read-only)",
                    static_cast<unsigned long long>(inj->vdso_addr),
                    static_cast<unsigned long long>(inj->vvar_addr));
      vdso_note = buf;
      process(self.tid).vdso_begin = inj->vdso_addr;
      process(self.tid).vdso_end = inj->vdso_addr + opts_.inject->image_size;
      if (vdso_functions_)
        patch_into = vsyscall::VdsoFunctions{inj->vdso_addr + vdso_functions_->gettimeofday,
                                             inj->vdso_addr + vdso_functions_->time,
                                             inj->vdso_addr + vdso_functions_->getcpu};
      VDSORUN_LOG(kDebug, "pid %d: AT_SYSINFO_EHDR was %#llx (the kernel's vDSO)", self.tid,
                  static_cast<unsigned long long>(inj->host_vdso));
    } else {
      vdso_note = "host vDSO (injection failed: " + why + ")";
      // Info, not a warning: the program runs on, with the kernel's vDSO, as the man page
      // says (a message at the default level would break -q's silence).
      VDSORUN_LOG(kInfo, "pid %d: cannot inject the vDSO (%s): the program keeps the kernel's vDSO",
                  self.tid, why.c_str());
    }
    requeue(self, deferred);
  }
  // Attach mode: an image without our vDSO gets its sites patched to call the kernel's.
  if (!patch_into && opts_.attached && !(regs && regs->cs == kUser32CodeSelector))
    patch_into = own_vdso_functions(self.tid);
  process(self.tid).patches.fns = patch_into;
  report_.new_image(self.tid, executable, vdso_note);
  VDSORUN_LOG(kDebug, "exec pid %d: %s (%s)", self.tid, executable.c_str(), vdso_note.c_str());
}

}  // namespace emulator
