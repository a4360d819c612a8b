// Attach mode in the event loop (vdsorun -p): taking over threads that were running before
// vdsorun came, and leaving them at the end so that they run on exactly as before: each
// thread is detached at an interrupt stop (or its group-stop), never half-way through
// something of ours, and nothing that needs a tracer stays behind (DESIGN.md 3.2).
#include <signal.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "emulator/log.h"
#include "emulator/trace/engine.h"
#include "emulator/trace/maps.h"
#include "emulator/trace/ptrace_ops.h"

namespace emulator {

int Engine::run_attached(const std::vector<AttachedProcess>& processes) {
  for (const AttachedProcess& p : processes) {
    if (!main_pid_) main_pid_ = p.pid;
    Process& proc = processes_[p.pid] = Process{};
    // A running image keeps the vDSO it started with (the kernel's): its call sites are
    // patched to call that one, which needs nothing of vdsorun after it detaches.
    if (patcher_) proc.patches.fns = own_vdso_functions(p.pid);
    char exe[PATH_MAX];
    const std::string link = "/proc/" + std::to_string(p.pid) + "/exe";
    const ssize_t n = readlink(link.c_str(), exe, sizeof exe - 1);
    report_.new_image(p.pid, n > 0 ? std::string(exe, static_cast<size_t>(n)) : "?",
                      "attached while running: the kernel's vDSO");
    for (pid_t tid : p.threads) tracee(tid).tgid = p.pid;
    // Without this a container's seccomp profile would keep every site unpatched, and on a
    // none host each would fault again after the detach.
    attach_filters_[p.pid] =
        std::max(inherited_filters_, proc_status_field(p.pid, "Seccomp_filters").value_or(0));
  }
  loop();
  if (patcher_) count_patched_calls();
  return opts_.detach_request ? opts_.detach_request->load() : 0;
}

void Engine::begin_detach() {
  detaching_ = true;
  detach_started_ = std::chrono::steady_clock::now();
  VDSORUN_LOG(kInfo, "detaching from %zu threads", tracees_.size());
  // A thread stopped already (its stop waiting in reaped_, or listening in a group-stop)
  // takes the interrupt when it is next resumed, or at once.
  for (const auto& [tid, t] : tracees_) interrupt(tid);
}

bool Engine::detach_if_clean(Tracee& t, int status) {
  // Only at an interrupt stop (ours or a new thread's first) or a group-stop: at any other
  // stop the thread is in a syscall, an event or a signal that the loop must finish first.
  if ((status >> 16) != PTRACE_EVENT_STOP) return false;
  // The stop a none-mode fetch fault waits for: on_stop() puts the call's registers back.
  if (t.pending == Tracee::Pending::kFetchFaultInterrupt) return false;
  if (t.pending == Tracee::Pending::kFetchFaultTrap && !t.step_trap &&
      opts_.host == vsyscall::HostMode::kNone) {
    // The call is to fault as on a none kernel. On this none host the entry faults just so
    // when run again, and without us.
    if (auto regs = get_regs(t.tid)) {
      regs->rip = t.fetch_addr;
      set_regs(t.tid, *regs);
    }
    t.pending = Tracee::Pending::kNone;
  }
  if (t.pending != Tracee::Pending::kNone || t.frame_fix) {
    if (!detach_forced_) return false;
    VDSORUN_LOG(kWarn,
                "thread %d is held in a group-stop half-way through a vsyscall of vdsorun's: "
                "detached as it is",
                t.tid);
  }
  t.patch_return = 0;  // no patching now
  // No signal: an interrupt stop has none, and a thread detached at its group-stop stays
  // stopped (the kernel puts it back into the group-stop). Signals queued meanwhile stay
  // queued.
  if (ptrace(PTRACE_DETACH, t.tid, nullptr, nullptr) != 0 && errno != ESRCH)
    VDSORUN_LOG(kWarn, "ptrace(PTRACE_DETACH, %d): %s", t.tid, std::strerror(errno));
  VDSORUN_LOG(kDebug, "thread %d detached", t.tid);
  tracees_.erase(t.tid);
  return true;
}

}  // namespace emulator
