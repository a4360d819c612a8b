// PTRACE_SEIZE of running processes, thread by thread, until /proc shows nothing new; and the
// words for a refusal, made from what /proc says about the process and about us.
#include "emulator/trace/attach.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "emulator/log.h"
#include "emulator/trace/maps.h"

namespace emulator {

long attach_options() {
  return PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
         PTRACE_O_TRACESYSGOOD;
}

namespace {

bool has_cap_sys_ptrace() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[CAP_SYS_PTRACE / 32].effective >> (CAP_SYS_PTRACE % 32)) & 1;
}

std::vector<pid_t> numeric_entries(const std::string& dir) {
  std::vector<pid_t> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      const long v = std::strtol(e->d_name, &end, 10);
      if (v > 0 && end && *end == '\0') out.push_back(static_cast<pid_t>(v));
    }
    closedir(d);
  }
  return out;
}

// Whether `tid` is traced by this process (a thread or child that a seized thread started
// and the kernel attached to us by itself: seizing it again fails with EPERM).
bool traced_by_us(pid_t tid) {
  const long tracer = proc_status_field(tid, "TracerPid").value_or(0);
  return tracer != 0 && (tracer == getpid() || tracer == static_cast<long>(syscall(SYS_gettid)));
}

// Takes a seized, running thread off our hands again: stops it (PTRACE_DETACH needs a
// stopped tracee), then detaches, handing back a signal it stopped for.
void release(pid_t tid) {
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) return;
  int status = 0;
  pid_t got;
  while ((got = waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {
  }
  if (got != tid || !WIFSTOPPED(status)) return;
  const long sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
  ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(sig));
}

struct Seized {
  AttachedProcess process;
  int error = 0;  // errno of the refusal; 0 if seized
};

// Seizes every thread of `pid`, in passes over /proc/PID/task until a pass finds none new: a
// thread started by one not yet seized shows up in the next pass, one started by a seized
// thread is attached by the kernel (PTRACE_O_TRACECLONE).
Seized seize_process(pid_t pid) {
  Seized out;
  out.process.pid = pid;
  std::set<pid_t> done;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  while (true) {
    bool fresh = false;
    std::vector<pid_t> tids = numeric_entries(task_dir);
    if (tids.empty() && done.empty()) {
      out.error = ESRCH;
      return out;
    }
    // The leader first: its refusal is the process's.
    std::sort(tids.begin(), tids.end(),
              [pid](pid_t a, pid_t b) { return (a == pid) != (b == pid) ? a == pid : a < b; });
    for (pid_t tid : tids) {
      if (done.count(tid)) continue;
      if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(attach_options())) == 0) {
        done.insert(tid);
        out.process.threads.push_back(tid);
        fresh = true;
        continue;
      }
      const int e = errno;
      if (e == ESRCH) continue;  // the thread ended meanwhile
      if (e == EPERM && traced_by_us(tid)) {
        done.insert(tid);
        out.process.threads.push_back(tid);
        fresh = true;
        continue;
      }
      // Refused. Undo what was seized, so that the process is as it was.
      for (pid_t t : out.process.threads) release(t);
      out.process.threads.clear();
      out.error = e;
      return out;
    }
    if (!fresh) return out;
  }
}

}  // namespace

AttachFacts attach_facts(pid_t pid, int seize_errno) {
  AttachFacts f;
  f.seize_errno = seize_errno;
  const std::string dir = "/proc/" + std::to_string(pid);
  f.exists = access(dir.c_str(), F_OK) == 0;
  if (const auto status = read_text_file(dir + "/status")) {
    const std::string state = status_value(*status, "State").value_or("");
    if (!state.empty()) f.state = state[0];
    f.kernel_thread = !status_value(*status, "VmSize") && f.state != 'Z';
    f.tracer =
        static_cast<pid_t>(std::atol(status_value(*status, "TracerPid").value_or("0").c_str()));
    const std::string uids = status_value(*status, "Uid").value_or("");
    const char* p = uids.c_str();
    char* end = nullptr;
    for (long v = std::strtol(p, &end, 10); end != p; v = std::strtol(p, &end, 10)) {
      f.uids.push_back(v);
      p = end;
    }
  } else {
    f.exists = false;
  }
  if (f.tracer) {
    if (auto comm = read_text_file("/proc/" + std::to_string(f.tracer) + "/comm")) {
      f.tracer_name = *comm;
      while (!f.tracer_name.empty() && f.tracer_name.back() == '\n') f.tracer_name.pop_back();
    }
  }
  f.our_uid = static_cast<long>(geteuid());
  f.cap_sys_ptrace = has_cap_sys_ptrace();
  if (auto yama = read_text_file("/proc/sys/kernel/yama/ptrace_scope"))
    f.yama_scope = std::atoi(yama->c_str());
  return f;
}

std::string explain_refusal(pid_t pid, const AttachFacts& f) {
  const std::string id = std::to_string(pid);
  if (f.seize_errno == ESRCH || !f.exists) return "no process with id " + id;
  if (f.state == 'Z' || f.state == 'X') return "process " + id + " has already exited (a zombie)";
  if (f.kernel_thread) return id + " is a kernel thread, not a program";
  if (f.tracer != 0) {
    std::string s = "process " + id + " is already traced by process " + std::to_string(f.tracer);
    if (!f.tracer_name.empty()) s.append(" (").append(f.tracer_name).append(")");
    return s.append(
        ": a process can have only one tracer (a debugger, strace, or another "
        "vdsorun); detach that one first");
  }
  const bool other_user =
      std::any_of(f.uids.begin(), f.uids.end(), [&](long u) { return u != f.our_uid; });
  if (other_user && !f.cap_sys_ptrace) {
    std::string s = "process " + id + " belongs to user ";
    s.append(std::to_string(f.uids.empty() ? -1 : f.uids[0]))
        .append(" and vdsorun runs as user ")
        .append(std::to_string(f.our_uid))
        .append(" without CAP_SYS_PTRACE: run vdsorun as that user, or as root");
    return s;
  }
  if (f.yama_scope == 3)
    return "the Yama LSM forbids all tracing on this system (kernel.yama.ptrace_scope = 3, "
           "which only a reboot resets)";
  if (f.yama_scope == 2 && !f.cap_sys_ptrace)
    return "the Yama LSM lets only CAP_SYS_PTRACE trace (kernel.yama.ptrace_scope = 2): run "
           "vdsorun as root";
  if (f.yama_scope == 1 && !f.cap_sys_ptrace)
    return "the Yama LSM lets a process trace only its own descendants "
           "(kernel.yama.ptrace_scope = 1): run vdsorun as root (CAP_SYS_PTRACE), or set "
           "kernel.yama.ptrace_scope to 0";
  std::string s = "ptrace(PTRACE_SEIZE, " + id + "): ";
  s.append(std::strerror(f.seize_errno));
  if (f.seize_errno == EPERM)
    s.append(
        " (the process may be non-dumpable, e.g. set-user-ID, or a container or security "
        "module forbids tracing it)");
  return s;
}

std::vector<pid_t> descendants_of(pid_t pid) {
  std::map<pid_t, std::vector<pid_t>> children;
  for (pid_t p : numeric_entries("/proc")) {
    const auto stat = read_text_file("/proc/" + std::to_string(p) + "/stat");
    if (!stat) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
    const size_t close = stat->rfind(')');
    if (close == std::string::npos || close + 4 >= stat->size()) continue;
    const pid_t ppid = static_cast<pid_t>(std::atol(stat->c_str() + close + 4));
    children[ppid].push_back(p);
  }
  std::vector<pid_t> out;
  std::vector<pid_t> todo{pid};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

std::vector<AttachedProcess> attach_to(pid_t pid, bool tree) {
  // A thread id stands for its process.
  const pid_t tgid = static_cast<pid_t>(proc_status_field(pid, "Tgid").value_or(pid));
  if (tgid == getpid())
    throw AttachError("cannot attach to process " + std::to_string(pid) +
                      ": that is vdsorun itself");
  std::vector<AttachedProcess> out;
  Seized root = seize_process(tgid);
  if (root.error) {
    throw AttachError("cannot attach to process " + std::to_string(pid) + ": " +
                      explain_refusal(pid, attach_facts(tgid, root.error)));
  }
  VDSORUN_LOG(kInfo, "attached to process %d (%zu threads)", tgid, root.process.threads.size());
  out.push_back(std::move(root.process));
  if (!tree) return out;
  std::set<pid_t> seen{tgid};
  while (true) {
    bool fresh = false;
    for (pid_t d : descendants_of(tgid)) {
      if (!seen.insert(d).second) continue;
      Seized s = seize_process(d);
      if (s.error) {
        const AttachFacts f = attach_facts(d, s.error);
        if (f.exists && f.state != 'Z')
          VDSORUN_LOG(kWarn, "not attached to process %d (a descendant of %d): %s", d, tgid,
                      explain_refusal(d, f).c_str());
        continue;
      }
      VDSORUN_LOG(kInfo, "attached to process %d (%zu threads), a descendant of %d", d,
                  s.process.threads.size(), tgid);
      out.push_back(std::move(s.process));
      fresh = true;
    }
    if (!fresh) return out;
  }
}

}  // namespace emulator
