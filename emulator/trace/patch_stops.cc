// Call-site patching in the event loop: when a site is patched, how faults inside the
// trampoline are undone, and how a program's own seccomp filter turns patching off
// (emulator/inject/call_patcher.h holds the mechanism).
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <unordered_set>

#include "emulator/trace/engine.h"
#include "emulator/log.h"
#include "emulator/trace/ptrace_ops.h"

namespace emulator {

void Engine::patch_later(Tracee& t, vsyscall::Entry entry, uint64_t return_address) {
  if (!patcher_ || t.patch_return || !patcher_->wants(process(tgid_of(t)).patches, return_address))
    return;
  // At a seccomp stop nothing but the answer may change; the interrupt stops the thread right
  // after the kernel's emulated `ret`, in the program's own code.
  t.patch_return = return_address;
  t.patch_entry = entry;
  interrupt(t.tid);
}

void Engine::patch_now(Tracee& t) {
  const uint64_t ret = std::exchange(t.patch_return, 0);
  const pid_t pid = tgid_of(t);
  const size_t image = report_.image_index(pid);
  SiteStats& site = report_.image_at(image).entries[t.patch_entry].call_sites[ret];
  if (has_own_seccomp_filters(t.tid)) {
    process(pid).patches.disabled = true;
    site.not_patched = "the process has seccomp filters of its own";
    return;
  }
  std::vector<siginfo_t> deferred;
  auto r = patcher_->patch(process(pid).patches, pid, t.tid, t.patch_entry, ret,
                           [&] { return stop_other_threads(pid, t.tid); }, deferred);
  requeue(t, deferred);
  if (!r.patched) {
    site.not_patched = r.reason;
    VDSORUN_LOG(kDebug, "pid %d: call site %#llx not patched: %s", t.tid,
                static_cast<unsigned long long>(ret), r.reason.c_str());
    return;
  }
  site.patch = SitePatch{r.form, site.count, 0};
  patched_.push_back({image, t.patch_entry, ret, r.counter});
  VDSORUN_LOG(kDebug, "pid %d: call site %#llx patched (%s)", t.tid,
              static_cast<unsigned long long>(ret), r.form.c_str());
}

std::optional<Resume> Engine::rewind_patched_call(Tracee& t, const vsyscall::Gpr& regs) {
  if (!patcher_) return std::nullopt;
  auto rewound = patcher_->rewind(process(tgid_of(t)).patches, t.tid, regs);
  if (!rewound) return std::nullopt;
  // Run the call again from its entry, unpatched: the page (or vdsorun's emulation of it)
  // gives the kernel's answer to the bad pointer. First the divide error, so that answer does
  // not carry the trap number and error code of the fault we took here.
  vsyscall::Gpr w = regs;
  w.rip = rewound->reset_trap;
  set_regs(t.tid, w);
  t.pending = Tracee::Pending::kRewoundCall;
  t.fetch_addr = rewound->reset_divide;
  t.saved = rewound->call;
  return Resume::cont();
}

std::optional<Resume> Engine::on_rewound_call_trap(Tracee& t, int sig) {
  auto si = get_siginfo(t.tid);
  if (!si) return std::nullopt;
  auto regs = get_regs(t.tid);
  if (!regs) return Resume{Resume::Kind::kNothing, 0};
  if (sig == SIGSEGV && si->si_code == SEGV_MAPERR && si->si_addr == nullptr &&
      regs->rip + 2 == t.fetch_addr) {
    regs->rip = t.fetch_addr;  // over the read of 0: cr2 is 0 now
    set_regs(t.tid, *regs);
    return Resume::cont();
  }
  if (sig != SIGFPE || si->si_code != FPE_INTDIV || regs->rip != t.fetch_addr) return std::nullopt;
  t.pending = Tracee::Pending::kNone;
  set_regs(t.tid, t.saved);
  return Resume::cont();
}

void Engine::on_seccomp_install(Tracee& t) {
  if (!patcher_) return;
  const pid_t pid = tgid_of(t);
  PatchState& p = process(pid).patches;
  if (!p.sites.empty())
    VDSORUN_LOG(kDebug, "pid %d installs a seccomp filter: patched call sites restored", t.tid);
  patcher_->unpatch_all(p, t.tid, [&] { return stop_other_threads(pid, t.tid); });
}

std::function<void()> Engine::stop_other_threads(pid_t pid, pid_t self) {
  std::vector<pid_t> stopped;
  std::unordered_set<pid_t> held;  // stopped already, their stops waiting in reaped_
  for (const auto& [tid, status] : reaped_) held.insert(tid);
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
      if (tid <= 0 || tid == self || held.count(tid)) continue;
      if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) continue;
      int status = 0;
      pid_t got;
      do {
        got = waitpid(tid, &status, __WALL);
      } while (got < 0 && errno == EINTR);
      if (got != tid) continue;
      if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP && WSTOPSIG(status) == SIGTRAP) {
        stopped.push_back(tid);  // our interrupt (or a new thread's first stop)
      } else {
        reaped_.emplace_back(tid, status);  // stopped for its own reason: the loop handles it
      }
    }
    closedir(d);
  }
  return [stopped] {
    for (pid_t tid : stopped) cont(tid, 0);
  };
}

void Engine::count_patched_calls() {
  for (const PatchedSite& p : patched_) {
    const uint64_t n = patcher_->count(p.counter);
    ProcessReport& img = report_.image_at(p.image);
    EntryStats& es = img.entries[p.entry];
    SiteStats& s = es.call_sites[p.return_address];
    if (s.patch) s.patch->patched_calls = n;
    s.count += n;
    s.outcomes[opts_.mode == vsyscall::Mode::kNative ? Outcome::kNative : Outcome::kEmulated] += n;
    es.calls += n;
  }
  patched_.clear();
}

}  // namespace emulator
