// vdsorun -p (issue 11): attach to a busy multi-threaded program mid-loop, detach, and check
// that it runs on to a correct end; follow a fork and exec while attached; refusals; and a
// vdsorun killed outright leaves the program running. What the attached program sees depends
// on the host: on a none host its calls are emulated and its call sites patched (they keep
// working after the detach); on an xonly host the kernel emulates its calls unseen and only
// its reads of the page are vdsorun's. Runs on this host and in the guest kernels
// (tests/guest runs vdsorun_matrix in each).
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "host.h"
#include "json.h"
#include "process.h"

namespace integration {
namespace {

using Clock = std::chrono::steady_clock;

std::string program(const std::string& name) {
  return programs_dir() + "/" + name + "_static";
}

// A command running beside the test, with pipes to its stdin, stdout and stderr.
class Background {
 public:
  // With `uid` >= 0 the command runs as that user and group (the caller must be root).
  explicit Background(const std::vector<std::string>& argv, int uid = -1) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return;
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      if (uid >= 0 && (setgroups(0, nullptr) != 0 || setgid(static_cast<gid_t>(uid)) != 0 ||
                       setuid(static_cast<uid_t>(uid)) != 0))
        _exit(126);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }
  ~Background() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_, err_})
      if (fd >= 0) close(fd);
  }
  pid_t pid() const { return pid_; }
  bool ok() const { return pid_ > 0; }

  void send(const std::string& line) {
    const std::string l = line + "\n";
    EXPECT_EQ(write(in_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  void close_stdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // Reads stdout (or stderr) until `needle` has appeared or `seconds` pass; true if it did.
  bool wait_for_out(const std::string& needle, int seconds = 30) {
    return wait_for(out_, out_text_, needle, seconds);
  }
  bool wait_for_err(const std::string& needle, int seconds = 30) {
    return wait_for(err_, err_text_, needle, seconds);
  }
  // Waits for the exit (killing it after `seconds`), reading the rest of the output.
  int wait(int seconds = 60) {
    wait_for(out_, out_text_, "\x01never", seconds, true);
    wait_for(err_, err_text_, "\x01never", 2, true);
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    int status = 0;
    while (true) {
      const pid_t got = waitpid(pid_, &status, WNOHANG);
      if (got == pid_) break;
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        timed_out_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    reaped_ = true;
    return status;
  }
  // Waits until `needle` has appeared `count` times in stdout.
  bool wait_for_out_count(const std::string& needle, size_t count, int seconds = 30) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (occurrences(out_text_, needle) < count) {
      if (Clock::now() > deadline) return false;
      // Reads at least one more chunk (or times out).
      if (!wait_for(out_, out_text_, "\x01never", 1) && out_ < 0) return false;
    }
    return true;
  }
  static size_t occurrences(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
  }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }
  bool timed_out() const { return timed_out_; }

 private:
  static bool wait_for(int fd, std::string& text, const std::string& needle, int seconds,
                       bool to_eof = false) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (text.find(needle) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || fd < 0) return false;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return false;  // end of file
      text.append(buf, static_cast<size_t>(n));
    }
    (void)to_eof;
    return true;
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  bool reaped_ = false;
  bool timed_out_ = false;
  std::string out_text_, err_text_;
};

// TracerPid of every thread of `pid`.
std::vector<long> tracers(pid_t pid) {
  std::vector<long> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("TracerPid:", 0) == 0) out.push_back(std::atol(line.c_str() + 10));
  }
  closedir(d);
  return out;
}

bool all_traced_by(pid_t pid, pid_t tracer_tgid) {
  // The tracer is vdsorun's engine thread: a thread of tracer_tgid.
  const std::vector<long> t = tracers(pid);
  if (t.empty()) return false;
  for (long v : t) {
    if (v == 0) return false;
    std::ifstream in("/proc/" + std::to_string(v) + "/status");
    std::string line;
    long tgid = 0;
    while (std::getline(in, line))
      if (line.rfind("Tgid:", 0) == 0) tgid = std::atol(line.c_str() + 5);
    if (tgid != tracer_tgid) return false;
  }
  return true;
}

bool none_traced(pid_t pid) {
  for (long v : tracers(pid))
    if (v != 0) return false;
  return true;
}

// `key=N` from the program's output (the last occurrence), -1 if absent.
long field(const std::string& text, const std::string& key) {
  const size_t p = text.rfind(" " + key + "=");
  if (p == std::string::npos) return -1;
  return std::atol(text.c_str() + p + key.size() + 2);
}

std::string temp_report() {
  char path[] = "/tmp/vdsorun-attach-XXXXXX";
  const int fd = mkstemp(path);
  if (fd >= 0) close(fd);
  return path;
}

std::optional<JsonValue> read_report(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  unlink(path.c_str());
  std::string error;
  auto doc = parse_json(s.str(), &error);
  EXPECT_TRUE(doc.has_value()) << error << "\n" << s.str();
  return doc;
}

// Starts attach_loop and waits until its threads run.
void start_loop(Background& prog) {
  ASSERT_TRUE(prog.ok());
  ASSERT_TRUE(prog.wait_for_out("ready threads=")) << prog.out();
}

// Starts `vdsorun -v [extra] -p PID` and waits until every thread of PID is traced by it.
void attach(Background& v, pid_t pid) {
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v.wait_for_err("attached to process " + std::to_string(pid))) << v.err();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!all_traced_by(pid, v.pid()) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(all_traced_by(pid, v.pid()));
}

// The counts the program prints now (`stats`).
std::string stats(Background& prog, int n) {
  const std::string marker = "stats#" + std::to_string(n);
  prog.send("stats " + marker);
  EXPECT_TRUE(prog.wait_for_out(marker + " ")) << prog.out();
  const std::string& o = prog.out();
  const size_t p = o.rfind(marker + " ");
  return o.substr(p, o.find('\n', p) - p);
}

// Attaches to attach_loop mid-loop, detaches with SIGTERM, checks what it did before, during
// and after. With `filter`, the program has a seccomp filter of its own from before the attach
// (a container's profile): its sites are patched all the same.
void busy_threads_run_on(bool filter) {
  if (filter) setenv("ATTACH_LOOP_FILTER", "1", 1);
  Background prog({program("attach_loop"), "4"});
  unsetenv("ATTACH_LOOP_FILTER");
  start_loop(prog);
  const std::string report = temp_report();
  Background v({vdsorun_path(), "-v", "-o", report, "-p", std::to_string(prog.pid())});
  attach(v, prog.pid());
  // Mid-loop under vdsorun for a while.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const std::string during = stats(prog, 1);
  ASSERT_EQ(kill(v.pid(), SIGTERM), 0);
  const int vs = v.wait(30);
  ASSERT_FALSE(v.timed_out()) << v.err();
  EXPECT_TRUE(WIFEXITED(vs) && WEXITSTATUS(vs) == 0) << vs << "\n" << v.err();
  EXPECT_NE(v.err().find("detached on SIGTERM"), std::string::npos) << v.err();
  EXPECT_TRUE(none_traced(prog.pid()));
  // After the detach: running on by itself.
  const std::string after1 = stats(prog, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string after2 = stats(prog, 3);
  prog.close_stdin();
  const int ps = prog.wait(30);
  EXPECT_TRUE(WIFEXITED(ps) && WEXITSTATUS(ps) == 0) << ps << "\n" << prog.out() << prog.err();
  EXPECT_NE(prog.out().find("OK attach_loop threads=4 "), std::string::npos) << prog.out();

  const VsysMode host = host_mode();
  if (host == VsysMode::kNone) {
    // Calls fault natively before the attach; under vdsorun they are emulated and their sites
    // patched to the program's own vDSO, which needs no tracer: after the detach they go on
    // without a single fault.
    EXPECT_GT(field(during, "calls"), 0) << during;
    EXPECT_GT(field(after2, "calls"), field(after1, "calls")) << after1 << " / " << after2;
    EXPECT_EQ(field(after2, "call_faults"), field(after1, "call_faults"))
        << after1 << " / " << after2;
  } else {
    // The kernel emulates every call; nothing faults.
    EXPECT_EQ(field(after2, "call_faults"), 0) << after2;
  }
  if (host != VsysMode::kEmulate) {
    // Reads fault natively; vdsorun (--vsyscall=emulate) emulated them while attached, and
    // leaves nothing behind that would go on emulating them.
    EXPECT_GT(field(during, "reads"), 0) << during;
    EXPECT_EQ(field(after2, "reads"), field(after1, "reads")) << after1 << " / " << after2;
    EXPECT_GT(field(after2, "read_faults"), field(after1, "read_faults"));
  }
  auto doc = read_report(report);
  ASSERT_TRUE(doc);
  const JsonValue* a = doc->get("attach");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->string.find("attached to process " + std::to_string(prog.pid())), std::string::npos)
      << a->string;
}

TEST(Attach, BusyThreadsRunOnAfterSigtermDetach) {
  busy_threads_run_on(false);
}

TEST(Attach, BusyThreadsWithTheirOwnFilterRunOnAfterSigtermDetach) {
  busy_threads_run_on(true);
}

TEST(Attach, FollowsAForkAndExecThenDetaches) {
  Background prog({program("attach_loop"), "2"});
  start_loop(prog);
  const std::string report = temp_report();
  Background v({vdsorun_path(), "-v", "-o", report, "-p", std::to_string(prog.pid())});
  attach(v, prog.pid());
  // The child execs while attached: followed, its calls answered as --vsyscall=emulate says
  // (on every host), and it gets vdsorun's vDSO.
  prog.send("run " + program("call_entries") + " gettimeofday 3");
  ASSERT_TRUE(prog.wait_for_out("child exit=")) << prog.out();
  EXPECT_NE(prog.out().find("OK gettimeofday calls=3\nchild exit=0\n"), std::string::npos)
      << prog.out();
  ASSERT_EQ(kill(v.pid(), SIGINT), 0);
  const int vs = v.wait(30);
  EXPECT_TRUE(WIFEXITED(vs) && WEXITSTATUS(vs) == 0) << vs << "\n" << v.err();
  EXPECT_TRUE(none_traced(prog.pid()));
  // After the detach a new child runs natively: untraced.
  prog.send("run " + program("call_entries") + " time 2");
  ASSERT_TRUE(prog.wait_for_out_count("child exit=", 2)) << prog.out();
  const size_t second = prog.out().rfind("child exit=");
  ASSERT_NE(second, std::string::npos);
  const int code = std::atoi(prog.out().c_str() + second + 11);
  // Natively a none host faults on the call (the tracee's handler exits 66).
  EXPECT_EQ(code, host_mode() == VsysMode::kNone ? 66 : 0) << prog.out();
  prog.close_stdin();
  const int ps = prog.wait(30);
  EXPECT_TRUE(WIFEXITED(ps) && WEXITSTATUS(ps) == 0) << prog.out() << prog.err();
  EXPECT_NE(prog.out().find("OK attach_loop threads=2 "), std::string::npos) << prog.out();

  auto doc = read_report(report);
  ASSERT_TRUE(doc);
  const JsonValue* procs = doc->get("processes");
  ASSERT_NE(procs, nullptr);
  bool exec_seen = false;
  for (const JsonValue& p : procs->items) {
    const JsonValue* exe = p.get("executable");
    if (!exe || exe->string.find("call_entries") == std::string::npos) continue;
    exec_seen = true;
    const JsonValue* vdso = p.get("vdso_mapping");
    ASSERT_NE(vdso, nullptr);
    EXPECT_NE(vdso->string.find("vdsorun vDSO at"), std::string::npos) << vdso->string;
  }
  EXPECT_TRUE(exec_seen) << "the exec'd child is not in the report";
}

TEST(Attach, AttachTreeTakesTheExistingChildrenToo) {
  Background prog({program("attach_loop"), "2"});
  start_loop(prog);
  // A child started before vdsorun comes: 2 threads for 6 seconds (time enough to attach in a
  // guest under TCG).
  prog.send("start " + program("attach_loop") + " 2 6");
  ASSERT_TRUE(prog.wait_for_out("started pid=")) << prog.out();
  const pid_t child = static_cast<pid_t>(field(prog.out(), "pid"));
  ASSERT_GT(child, 0);
  Background v({vdsorun_path(), "-v", "--attach-tree", "-p", std::to_string(prog.pid())});
  attach(v, prog.pid());
  ASSERT_TRUE(v.wait_for_err("attached to process " + std::to_string(child))) << v.err();
  EXPECT_TRUE(all_traced_by(child, v.pid()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(kill(v.pid(), SIGTERM), 0);
  const int vs = v.wait(30);
  EXPECT_TRUE(WIFEXITED(vs) && WEXITSTATUS(vs) == 0) << vs << "\n" << v.err();
  EXPECT_NE(v.err().find("and its descendants " + std::to_string(child)), std::string::npos)
      << v.err();
  EXPECT_TRUE(none_traced(prog.pid()));
  EXPECT_TRUE(none_traced(child));
  prog.close_stdin();
  const int ps = prog.wait(30);
  EXPECT_TRUE(WIFEXITED(ps) && WEXITSTATUS(ps) == 0) << prog.out() << prog.err();
  // The child's own totals, then its exit status, then the parent's.
  EXPECT_NE(prog.out().find("OK attach_loop threads=2 "), std::string::npos) << prog.out();
  EXPECT_NE(prog.out().find("child exit=0\nOK attach_loop threads=2 "), std::string::npos)
      << prog.out();
}

TEST(Attach, ProgramOutlivesAKilledVdsorun) {
  Background prog({program("attach_loop"), "3"});
  start_loop(prog);
  Background v({vdsorun_path(), "-v", "-p", std::to_string(prog.pid())});
  attach(v, prog.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(kill(v.pid(), SIGKILL), 0);
  v.wait(30);
  // No PTRACE_O_EXITKILL: the kernel detaches the threads, which run on.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!none_traced(prog.pid()) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(none_traced(prog.pid()));
  EXPECT_EQ(kill(prog.pid(), 0), 0) << "the program died with vdsorun";
  stats(prog, 1);
  prog.close_stdin();
  const int ps = prog.wait(30);
  EXPECT_TRUE(WIFEXITED(ps) && WEXITSTATUS(ps) == 0) << ps << "\n" << prog.out() << prog.err();
  EXPECT_NE(prog.out().find("OK attach_loop threads=3 "), std::string::npos) << prog.out();
}

TEST(Attach, RefusesWithAReasonAndStatus125) {
  // No such process (past the largest pid Linux hands out).
  RunResult r = run_command({vdsorun_path(), "-p", "2147483000"});
  EXPECT_TRUE(r.exited && r.exit_code == 125) << r.describe();
  EXPECT_NE(r.err.find("vdsorun: cannot attach to process 2147483000: no process with id"),
            std::string::npos)
      << r.err;
  // Command-line mistakes.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"-p", "abc"}, {"-p", "1", "/bin/true"}, {"--attach-tree"}}) {
    std::vector<std::string> argv{vdsorun_path()};
    argv.insert(argv.end(), bad.begin(), bad.end());
    r = run_command(argv);
    EXPECT_TRUE(r.exited && r.exit_code == 125) << r.describe();
  }

  // Already traced: by a vdsorun that started it.
  Background traced({vdsorun_path(), "-q", program("attach_loop"), "1"});
  ASSERT_TRUE(traced.wait_for_out("ready threads=1")) << traced.err();
  pid_t child = 0;
  {
    // vdsorun's engine thread is the parent: read every thread's children.
    const std::string dir = "/proc/" + std::to_string(traced.pid()) + "/task";
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        std::ifstream c(dir + "/" + e->d_name + "/children");
        long v = 0;
        if (c >> v) child = static_cast<pid_t>(v);
      }
      closedir(d);
    }
  }
  if (child > 0) {
    r = run_command({vdsorun_path(), "-p", std::to_string(child)});
    EXPECT_TRUE(r.exited && r.exit_code == 125) << r.describe();
    EXPECT_NE(r.err.find("is already traced by process"), std::string::npos) << r.err;
  } else {
    ADD_FAILURE() << "no child of the spawning vdsorun found (no /proc/PID/task/TID/children?)";
  }
  traced.close_stdin();
  traced.wait(30);

  // Another user's process: vdsorun as nobody against ours.
  if (geteuid() != 0) GTEST_SKIP() << "the other-user case needs root";
  Background prog({program("attach_loop"), "1"});
  start_loop(prog);
  Background nobody({vdsorun_path(), "-p", std::to_string(prog.pid())}, 65534);
  const int ns = nobody.wait(30);
  EXPECT_TRUE(WIFEXITED(ns) && WEXITSTATUS(ns) == 125) << ns << "\n" << nobody.err();
  EXPECT_NE(nobody.err().find("belongs to user 0 and vdsorun runs as user 65534"),
            std::string::npos)
      << nobody.err();
  EXPECT_TRUE(none_traced(prog.pid()));
  prog.close_stdin();
  prog.wait(30);
}

}  // namespace
}  // namespace integration
