// Runs a command with captured stdout/stderr, optional stdin, cwd and environment, and a
// hang guard; returns how it ended.
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

extern char** environ;

namespace integration {
namespace {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

Pipe make_pipe() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + strerror(errno));
  return Pipe{Fd(p[0]), Fd(p[1])};
}

long long now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (std::string& s : v) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Between fork and exec only async-signal-safe calls.
[[noreturn]] void child(int in, int out, int err, int report, const char* cwd, char** argv,
                        char** envp) {
  dup2(in, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  dup2(err, STDERR_FILENO);
  if (report != 3) {
    dup2(report, 3);
  }
  fcntl(3, F_SETFD, FD_CLOEXEC);
  // Leave the command exactly fds 0, 1, 2 (and our CLOEXEC report pipe on 3).
  syscall(SYS_close_range, 4U, ~0U, 0U);
  setpgid(0, 0);
  signal(SIGPIPE, SIG_DFL);
  rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (cwd != nullptr && chdir(cwd) != 0) {
    int e = errno;
    (void)!write(3, &e, sizeof e);
    _exit(127);
  }
  execvpe(argv[0], argv, envp);
  int e = errno;
  (void)!write(3, &e, sizeof e);
  _exit(127);
}

}  // namespace

std::string RunResult::status_text() const {
  if (exec_errno != 0) return std::string("exec failed: ") + strerror(exec_errno);
  if (timed_out) return "timed out (hang guard)";
  if (exited) return "exit " + std::to_string(exit_code);
  if (signaled) return "signal " + std::to_string(signal);
  return "unknown status";
}

std::string RunResult::describe() const {
  std::string s = status_text() + "\n--- stdout ---\n" + out.substr(0, 4000);
  s += "\n--- stderr ---\n" + err.substr(0, 4000);
  return s;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

RunResult run_command(const std::vector<std::string>& argv_in, const RunOptions& opts) {
  // A command that stops reading stdin must not kill us.
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> argv_copy = argv_in;
  std::vector<std::string> env_copy = opts.env ? *opts.env : current_environment();
  std::vector<char*> argv = c_strings(argv_copy);
  std::vector<char*> envp = c_strings(env_copy);
  // execvpe searches the PATH of *our* environment; point it at the command's.
  std::string saved_path = getenv("PATH") ? getenv("PATH") : "";
  for (const std::string& e : env_copy) {
    if (e.rfind("PATH=", 0) == 0) setenv("PATH", e.c_str() + 5, 1);
  }

  Pipe in = make_pipe(), out = make_pipe(), err = make_pipe(), report = make_pipe();
  const char* cwd = opts.cwd ? opts.cwd->c_str() : nullptr;
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    child(in.read.get(), out.write.get(), err.write.get(), report.write.get(), cwd, argv.data(),
          envp.data());
  }
  setenv("PATH", saved_path.c_str(), 1);
  setpgid(pid, pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();
  report.write.reset();

  RunResult r;
  size_t in_off = 0;
  if (opts.stdin_data.empty()) in.write.reset();
  const long long deadline = now_ms() + opts.timeout_seconds * 1000LL;
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    pollfd fds[3];
    nfds_t n = 0;
    for (Fd* f : {&out.read, &err.read, &in.write}) {
      if (f->get() < 0) continue;
      fds[n++] = pollfd{f->get(), static_cast<short>(f == &in.write ? POLLOUT : POLLIN), 0};
    }
    long long left = deadline - now_ms();
    if (left <= 0) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    int rc = poll(fds, n, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw std::runtime_error(std::string("poll: ") + strerror(errno));
    for (nfds_t k = 0; k < n; ++k) {
      if (fds[k].revents == 0) continue;
      if (fds[k].fd == in.write.get()) {
        ssize_t w =
            write(in.write.get(), opts.stdin_data.data() + in_off, opts.stdin_data.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 || in_off == opts.stdin_data.size()) in.write.reset();
        continue;
      }
      char buf[65536];
      ssize_t got = read(fds[k].fd, buf, sizeof buf);
      if (got > 0) {
        (fds[k].fd == out.read.get() ? r.out : r.err).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        (fds[k].fd == out.read.get() ? out.read : err.read).reset();
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int e = 0;
  if (read(report.read.get(), &e, sizeof e) == sizeof e) r.exec_errno = e;
  r.exited = WIFEXITED(status);
  r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
  r.signaled = WIFSIGNALED(status);
  r.signal = r.signaled ? WTERMSIG(status) : 0;
  return r;
}

}  // namespace integration
