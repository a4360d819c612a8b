// fork + PTRACE_SEIZE + seccomp + execve, in two halves so that the caller can prepare the
// rest while the child execs. After fork() the child uses only async-signal-safe calls on
// memory prepared before the fork.
#include "emulator/trace/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "emulator/trace/unique_fd.h"

extern char** environ;

namespace emulator {

long trace_options() {
  // TRACESYSGOOD marks syscall-stops (only remote syscalls use them) apart from SIGTRAPs.
  return PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
         PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
}

std::vector<std::string> exec_candidates(const std::string& program, const char* path_env) {
  if (program.find('/') != std::string::npos) return {program};
  std::string_view path = path_env ? path_env : "/bin:/usr/bin";
  std::vector<std::string> out;
  while (true) {
    const size_t colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    std::string candidate;
    candidate.reserve(dir.size() + program.size() + 2);
    candidate.append(dir.empty() ? std::string_view(".") : dir).append("/").append(program);
    out.push_back(std::move(candidate));
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return out;
}

namespace {

bool has_cap_sys_admin() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

// What the child reports through the error pipe before it exits.
struct ChildFailure {
  int stage;  // 1: seccomp, 2: exec
  int err;
};

void write_failure(int fd, int stage, int err) {
  ChildFailure f{stage, err};
  ssize_t ignored = write(fd, &f, sizeof f);
  (void)ignored;
}

}  // namespace

PendingSpawn start_traced(const std::string& program, const std::vector<std::string>& args,
                          const BpfProgram& filter, const std::vector<SavedDisposition>& restore) {
  // Everything the child touches, prepared now.
  const std::vector<std::string> candidates = exec_candidates(program, getenv("PATH"));
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (size_t i = 1; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
  argv.push_back(nullptr);
  // execvp()'s fallback for a file without a #! line: run it with /bin/sh.
  std::vector<std::vector<char*>> sh_argvs;
  static char sh_path[] = "/bin/sh";
  for (const std::string& c : candidates) {
    std::vector<char*> v{sh_path, const_cast<char*>(c.c_str())};
    for (size_t i = 1; i < args.size(); ++i) v.push_back(const_cast<char*>(args[i].c_str()));
    v.push_back(nullptr);
    sh_argvs.push_back(std::move(v));
  }
  const bool need_nnp = !has_cap_sys_admin();
  sock_fprog fprog = filter.fprog();

  int go_pipe[2], err_pipe[2];
  if (pipe2(go_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw SpawnError(std::string("creating a pipe: ") + std::strerror(errno), 125);
  UniqueFd go_read(go_pipe[0]), go_write(go_pipe[1]);
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  // fork(), not vfork() or clone(CLONE_VM): the parent must PTRACE_SEIZE the child, with
  // TRACEEXEC and TRACESECCOMP among the options, before the child execs. With CLONE_VFORK the
  // parent sleeps until the child has exec'd: the seize would come too late (an untraced exec)
  // or never (the child waits for the go byte: deadlock). CLONE_VM alone would run the child on
  // the parent's memory and TLS (errno, malloc state) while the parent runs too: unsafe. fork
  // of a static, single-threaded vdsorun copies few mappings (perf: ~3% of vdsorun's time).
  pid_t pid = fork();
  if (pid < 0) throw SpawnError(std::string("fork: ") + std::strerror(errno), 125);
  if (pid == 0) {
    // Child. No allocation from here on.
    for (const SavedDisposition& d : restore) sigaction(d.signo, &d.action, nullptr);
    char byte;
    while (read(go_read.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    if (need_nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      write_failure(err_write.get(), 1, errno);
      _exit(125);
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
      write_failure(err_write.get(), 1, errno);
      _exit(125);
    }
    int err = ENOENT;
    for (size_t i = 0; i < candidates.size(); ++i) {
      execve(candidates[i].c_str(), argv.data(), environ);
      if (errno == ENOEXEC) {
        execve(sh_path, sh_argvs[i].data(), environ);
      }
      // Like execvp(): remember a permission problem, keep looking after "not found".
      if (errno == EACCES)
        err = EACCES;
      else if (errno != ENOENT && errno != ENOTDIR && err != EACCES)
        err = errno;
      if (candidates.size() == 1) err = errno;
    }
    write_failure(err_write.get(), 2, err);
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
  }

  // Parent.
  go_read.reset();
  err_write.reset();
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(trace_options())) != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw SpawnError(std::string("ptrace(PTRACE_SEIZE) refused: ") + std::strerror(e) +
                         (e == EPERM ? " (a container without CAP_SYS_PTRACE, or the Yama "
                                       "ptrace_scope setting, forbids tracing)"
                                     : ""),
                     125);
  }
  char go = 'g';
  if (write(go_write.get(), &go, 1) != 1) {
    kill(pid, SIGKILL);
    throw SpawnError(std::string("starting the child: ") + std::strerror(errno), 125);
  }
  go_write.reset();
  return PendingSpawn(pid, program, std::move(err_read));
}

PendingSpawn::PendingSpawn(PendingSpawn&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      program_(std::move(o.program_)),
      err_read_(std::move(o.err_read_)) {}

PendingSpawn::~PendingSpawn() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

SpawnedProgram PendingSpawn::wait_for_exec() {
  // From here on the caller owns the child (or it is gone): the destructor leaves it alone.
  const pid_t pid = std::exchange(pid_, -1);
  // Wait for the exec event (success) or the child's exit (failure). Signals that reach the
  // child before its exec are passed on.
  while (true) {
    int status;
    pid_t w = waitpid(pid, &status, __WALL);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw SpawnError(std::string("waitpid: ") + std::strerror(errno), 125);
    }
    if (WIFSTOPPED(status)) {
      if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) return {pid, status};
      int sig = WSTOPSIG(status);
      bool event = (status >> 16) != 0;
      ptrace(PTRACE_CONT, pid, nullptr,
             reinterpret_cast<void*>(event ? 0L : static_cast<long>(sig)));
      continue;
    }
    ChildFailure f{0, 0};
    ssize_t n = read(err_read_.get(), &f, sizeof f);
    if (n == static_cast<ssize_t>(sizeof f) && f.stage == 1)
      throw SpawnError(std::string("installing the seccomp filter in the child: ") +
                           std::strerror(f.err) +
                           (f.err == EINVAL ? " (kernel without seccomp filters?)" : ""),
                       125);
    if (n == static_cast<ssize_t>(sizeof f) && f.stage == 2)
      throw SpawnError("cannot run '" + program_ + "': " + std::strerror(f.err),
                       f.err == ENOENT || f.err == ENOTDIR ? 127 : 126);
    throw SpawnError("the child died before running '" + program_ + "'", 125);
  }
}

SpawnedProgram spawn_traced(const std::string& program, const std::vector<std::string>& args,
                            const BpfProgram& filter,
                            const std::vector<SavedDisposition>& restore) {
  return start_traced(program, args, filter, restore).wait_for_exec();
}

}  // namespace emulator
