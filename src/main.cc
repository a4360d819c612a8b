// vdsorun: parse the command line, start the program under the engine, report, and exit with
// the program's status (DESIGN.md 5).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

#include "emulator/trace/attach.h"
#include "emulator/trace/engine.h"
#include "emulator/log.h"
#include "emulator/clock/timekeeper.h"
#include "emulator/clock/vvar_object.h"
#include "emulator/own_thread.h"
#include "emulator/report/report.h"
#include "emulator/trace/maps.h"
#include "emulator/trace/seccomp_policy.h"
#include "emulator/trace/spawn.h"
#include "emulator/trace/unique_fd.h"
#include "scan/scan_command.h"
#include "src/detach_signals.h"
#include "src/options.h"
#include "src/scan_cross_check.h"
#include "vdso/image.h"
#include "vsyscall/mode.h"

namespace {

constexpr int kExitFailure = 125;
std::atomic<pid_t> g_main_pid{0};

// Signals sent to vdsorun by another process (kill, timeout(1), a supervisor) go on to the
// program: to the sender, vdsorun's pid stands for the program. Those the terminal sends
// (si_code SI_KERNEL) reach the program directly: it is in our process group.
void forward_signal(int sig, siginfo_t* si, void*) {
  const pid_t pid = g_main_pid.load();
  if (pid > 0 && si->si_code != SI_KERNEL) kill(pid, sig);
}

// A stop signal forwarded by hand must be undone the same way: `kill -TSTP <vdsorun>` then
// `kill -CONT <vdsorun>` stops and resumes the program, as the two would without vdsorun.
// Any other SIGCONT is left alone: a shell's fg/bg signals the whole process group, which
// reaches the program directly (forwarding it too would run its SIGCONT handler twice).
std::atomic<bool> g_forwarded_stop{false};

void forward_stop_signal(int sig, siginfo_t* si, void* ctx) {
  if (si->si_code != SI_KERNEL && g_main_pid.load() > 0) g_forwarded_stop.store(true);
  forward_signal(sig, si, ctx);
}

void forward_continue(int sig, siginfo_t* si, void* ctx) {
  if (g_forwarded_stop.exchange(false)) forward_signal(sig, si, ctx);
}

void ignore_signal(int) {}

// Installs vdsorun's handlers; returns the dispositions the child must get back.
std::vector<emulator::SavedDisposition> install_signal_handlers() {
  std::vector<emulator::SavedDisposition> saved;
  auto install = [&](int sig, struct sigaction sa) {
    emulator::SavedDisposition d{sig, {}};
    sigaction(sig, nullptr, &d.action);
    sigaction(sig, &sa, nullptr);
    saved.push_back(d);
  };
  struct sigaction fwd {};
  fwd.sa_sigaction = forward_signal;
  fwd.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&fwd.sa_mask);
  // Forwarded even when our parent left them ignored (a background job of a script ignores
  // SIGINT and SIGQUIT): the program gets SIG_IGN back before its exec, and its own
  // disposition decides, as if the signal had been sent to it. Like timeout(1).
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM}) install(sig, fwd);
  // Job control: the tracer itself must not stop on a stop signal (the program's group-stop
  // is mirrored instead). A stop signal sent to vdsorun with kill(1) goes on to the program,
  // which stops (or not) as it would natively; the terminal's reaches it directly.
  struct sigaction fwd_stop = fwd;
  fwd_stop.sa_sigaction = forward_stop_signal;
  for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) install(sig, fwd_stop);
  struct sigaction fwd_cont = fwd;
  fwd_cont.sa_sigaction = forward_continue;
  install(SIGCONT, fwd_cont);
  // Nor may it die writing a report to a closed pipe (kept ignored if it was).
  struct sigaction ign {};
  ign.sa_handler = ignore_signal;
  ign.sa_flags = SA_RESTART;
  sigemptyset(&ign.sa_mask);
  install(SIGPIPE, ign);
  return saved;
}

vsyscall::HostMode detect_host_mode() {
  auto maps = emulator::read_text_file("/proc/self/maps");
  if (!maps)
    throw std::runtime_error("reading /proc/self/maps: cannot open it (is /proc mounted?)");
  return vsyscall::host_mode_from_maps(*maps);
}

// Opens /dev/null on each of fds 0-2 that is not open, as daemons do; returns those fds (the
// program gets them closed again, as it would without vdsorun).
std::vector<int> open_missing_standard_fds() {
  std::vector<int> missing;
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open() returns the lowest free descriptor: this one.
    const int got = ::open("/dev/null", O_RDWR);
    if (got != fd) {
      if (got >= 0) ::close(got);
      continue;  // nothing better to do; the report may then go to an unexpected place
    }
    missing.push_back(fd);
  }
  return missing;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The real clocks at one instant (read back to back), where the tree's timeline starts.
emulator::ClockReadings read_start_clocks() {
  auto ns = [](clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
  };
  emulator::ClockReadings r;
  r.monotonic = ns(CLOCK_MONOTONIC);
  // REALTIME's timeline starts at the coarse clock's instant (up to a tick before now): time()
  // reads the coarse clock, and must show WHEN from the start, never the second before it.
  const int64_t coarse = ns(CLOCK_REALTIME_COARSE);
  const int64_t real = ns(CLOCK_REALTIME);
  r.realtime = std::min(coarse, real);
  r.tai = ns(CLOCK_TAI) - (real - r.realtime);
  r.boottime = ns(CLOCK_BOOTTIME);
  r.monotonic_raw = ns(CLOCK_MONOTONIC_RAW);
  return r;
}

bool in_terminal_foreground() {
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (isatty(fd)) return tcgetpgrp(fd) == getpgrp();
  }
  return false;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by SIG") + (name ? name : "?") +
           (WCOREDUMP(status) ? " (core dumped)" : "");
  }
  return "?";
}

// The report's line about an attach: who, and how it ended.
std::string attach_summary(const std::vector<emulator::AttachedProcess>& attached, int detach_sig,
                           vsyscall::HostMode host) {
  std::string s = "attached to process ";
  size_t threads = 0;
  for (size_t i = 0; i < attached.size(); ++i) {
    if (i == 1) s.append(" and its descendants ");
    if (i > 1) s.append(", ");
    s.append(std::to_string(attached[i].pid));
    threads += attached[i].threads.size();
  }
  s.append(" (").append(std::to_string(threads)).append(threads == 1 ? " thread)" : " threads)");
  if (detach_sig) {
    const char* name = sigabbrev_np(detach_sig);
    s.append("; detached on SIG").append(name ? name : "?");
  } else {
    s.append("; they all ended while attached");
  }
  if (host != vsyscall::HostMode::kNone)
    s.append("; on this vsyscall=")
        .append(vsyscall::host_mode_name(host))
        .append(
            " host the kernel emulates their calls of the page unseen: only reads and "
            "off-entry jumps are reported");
  return s;
}

int run(int argc, char** argv, const std::vector<int>& closed_std_fds) {
  const std::vector<std::string> args(argv, argv + argc);
  cli::Options opts;
  try {
    opts = cli::parse_options(args, getenv("VDSORUN_LOG"));
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "vdsorun: %s\nTry 'vdsorun --help' for more information.\n", e.what());
    return kExitFailure;
  }
  if (opts.help) {
    std::cout << cli::help_text();
    return 0;
  }
  if (opts.version) {
    std::cout << "vdsorun " VDSORUN_VERSION "\n";
    return 0;
  }
  emulator::set_log_level(opts.log_level);

  // Open the report file first: a bad path should fail before the program runs, not after.
  // Close-on-exec: the program must not inherit it.
  emulator::UniqueFd report_file;
  if (opts.report_file) {
    report_file.reset(
        ::open(opts.report_file->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (!report_file)
      throw std::runtime_error("opening the report file '" + *opts.report_file +
                               "': " + std::strerror(errno));
  }

  emulator::EngineOptions eo;
  eo.mode = opts.vsyscall_mode;
  eo.host = detect_host_mode();
  eo.vdso = opts.vdso_mode;
  eo.patch = opts.patch;
  emulator::ClockReadings time_start;
  if (opts.time.active()) {
    // The timeline starts now, before the program exists: every process of the tree, started
    // now or exec'd later, reads the same virtual clocks.
    time_start = read_start_clocks();
    const emulator::ClockReadings& start = time_start;
    eo.time = emulator::ClockTransform::build(opts.time, start);
    if (eo.vdso == emulator::VdsoMode::kHost) eo.host_vdso = emulator::HostVdso::of_this_process();
    if (eo.time.to_virtual(CLOCK_REALTIME, start.realtime) < 0) {
      std::fprintf(stderr, "vdsorun: --offset: CLOCK_REALTIME would be before 1970\n");
      return 125;
    }
  }
  eo.attached = opts.attach_pid.has_value();
  eo.mirror_job_control = !eo.attached && in_terminal_foreground();
  VDSORUN_LOG(kInfo, "host kernel vsyscall mode: %s; emulating: %s; vdso: %s",
              std::string(vsyscall::host_mode_name(eo.host)).c_str(),
              std::string(vsyscall::mode_name(eo.mode)).c_str(),
              std::string(emulator::vdso_mode_name(eo.vdso)).c_str());
  if (eo.host == vsyscall::HostMode::kEmulate && !vsyscall::page_readable(eo.mode))
    VDSORUN_LOG(kInfo,
                "the host kernel maps the vsyscall page readable (vsyscall=emulate): reads of it "
                "cannot be made to fault in --vsyscall=%s mode",
                std::string(vsyscall::mode_name(eo.mode)).c_str());

  // Attach mode: seize the running threads first, so that a refusal is told at once.
  std::optional<cli::DetachSignals> detach;
  std::vector<emulator::AttachedProcess> attached;
  std::optional<emulator::PendingSpawn> pending;
  if (eo.attached) {
    if (eo.host != vsyscall::HostMode::kNone && eo.mode == vsyscall::Mode::kNone)
      VDSORUN_LOG(kWarn,
                  "--vsyscall=none cannot be enforced on a running process on this "
                  "vsyscall=%s host: the kernel emulates its calls of the page before vdsorun "
                  "could see them (a seccomp filter cannot be added from outside)",
                  std::string(vsyscall::host_mode_name(eo.host)).c_str());
    detach.emplace();
    eo.detach_request = &detach->requested();
    try {
      attached = emulator::attach_to(*opts.attach_pid, opts.attach_tree);
    } catch (const emulator::AttachError& e) {
      std::fprintf(stderr, "vdsorun: %s\n", e.what());
      return kExitFailure;
    }
  } else {
    // Start the program first: its fork, seccomp filter and exec run beside the rest of our
    // start-up. It stays stopped at its exec until engine.run() has injected the vDSO.
    const emulator::BpfProgram filter = emulator::vsyscall_filter(
        emulator::vsyscall_action(eo.mode, eo.host),
        !eo.time.active()       ? emulator::TimeCalls::kNone
        : opts.time.rate != 1.0 ? emulator::TimeCalls::kScaled
                                : emulator::TimeCalls::kAbsolute,
        eo.time.clock_mask());
    const auto restore = install_signal_handlers();
    try {
      pending.emplace(emulator::start_traced(opts.program_args[0], opts.program_args, filter,
                                             restore, closed_std_fds));
    } catch (const emulator::SpawnError& e) {
      std::fprintf(stderr, "vdsorun: %s\n", e.what());
      return e.exit_code();
    }
  }

  // The injected vDSO: create the vvar and the image objects, and start the timekeeper before
  // the program can read the clock. (The image is not checked here: vdso/embed_image checks it
  // when it is built into us, and tests/vdso checks the embedded copy.)
  std::optional<emulator::VvarObject> vvar;
  std::optional<emulator::ImageObject> image;
  std::optional<emulator::Timekeeper> timekeeper;
  if (eo.vdso == emulator::VdsoMode::kInject) {
    vvar.emplace();
    image.emplace(vdso::image());
    emulator::TimekeeperOptions tko;
    tko.log = [](std::string_view line) {
      VDSORUN_LOG(kInfo, "timekeeper: %.*s", static_cast<int>(line.size()), line.data());
    };
    const auto host = emulator::HostVdso::of_this_process();
    tko.kernel_vdso = host.present();
    tko.transform = eo.time;
    timekeeper.emplace(vvar->page(), tko);
    const auto links = vdso::image_links(vdso::image());
    if (!links) throw std::runtime_error("the vDSO image built into vdsorun has no host table");
    emulator::InjectionAssets assets;
    assets.supervisor_pid = getpid();
    assets.vvar_fd = vvar->fd();
    assets.vvar_size = vdso::kImageOffset;
    assets.image_fd = image->fd();
    assets.image_size = image->map_size();
    assets.image = vdso::image();
    assets.links = *links;
    assets.host = host;
    assets.transformed = eo.time.active();
    eo.inject = assets;
    eo.vvar = vvar->page();
  }

  emulator::Report report;
  report.set_run_info(std::string(vsyscall::mode_name(eo.mode)),
                      std::string(vsyscall::host_mode_name(eo.host)),
                      std::string(emulator::vdso_mode_name(eo.vdso)));
  if (eo.time.active()) {
    emulator::Report::TimeInfo ti;
    ti.description = eo.time.description();
    ti.realtime_start_ns = eo.time.to_virtual(CLOCK_REALTIME, time_start.realtime);
    ti.realtime_start = emulator::format_utc(ti.realtime_start_ns);
    ti.offset_ns = ti.realtime_start_ns - time_start.realtime;
    ti.rate = opts.time.rate;
    ti.freeze = opts.time.freeze;
    report.set_time(ti);
  }
  int status = 0;
  if (eo.attached) {
    emulator::Engine engine(eo, report);
    const int sig = engine.run_attached(attached);
    detach->stop_timer();
    report.set_attach(attach_summary(attached, sig, eo.host));
  } else {
    emulator::SpawnedProgram prog;
    try {
      prog = pending->wait_for_exec();
    } catch (const emulator::SpawnError& e) {
      std::fprintf(stderr, "vdsorun: %s\n", e.what());
      return e.exit_code();
    }
    g_main_pid.store(prog.pid);

    emulator::Engine engine(eo, report);
    status = engine.run(prog);
    report.set_exit(describe_status(status));
  }

  if (!report.empty() && (!opts.quiet || opts.report_file)) cli::mark_scan_misses(report);
  if (!opts.quiet && !report.empty()) {
    report.resolve_symbols();
    std::ostringstream text;
    report.write_text(text);
    std::cerr << text.str() << std::flush;
  }
  if (opts.report_file) {
    report.resolve_symbols();
    std::ostringstream json;
    report.write_json(json);
    if (!write_all(report_file.get(), json.str()))
      std::fprintf(stderr, "vdsorun: writing the report file '%s' failed: %s\n",
                   opts.report_file->c_str(), std::strerror(errno));
  }
  if (eo.attached) return 0;  // detached, or everything it was attached to has ended
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitFailure;
}

int guarded_run(int argc, char** argv, const std::vector<int>& closed_std_fds) {
  try {
    // A subcommand, before the options of a run: `vdsorun scan ...` (a program named scan
    // runs as `vdsorun -- scan`).
    if (argc >= 2 && std::strcmp(argv[1], "scan") == 0)
      return scan::scan_main(std::vector<std::string>(argv + 2, argv + argc));
    return run(argc, argv, closed_std_fds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vdsorun: %s\n", e.what());
    return kExitFailure;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything can open a file: a descriptor 0-2 our parent left closed would otherwise be
  // taken by the report file or a pipe, and a message for stderr would land in it.
  const std::vector<int> closed_std_fds = open_missing_standard_fds();
  // The main thread's stack is as small as RLIMIT_STACK, which is the program's to choose
  // (`ulimit -s 16`; sh sets the hard limit too, so we cannot raise it). vdsorun's work runs
  // on a thread whose stack vdsorun sizes; that thread is also the tracer (every ptrace call
  // and the spawn happen on it).
  constexpr size_t kWorkStack = size_t{8} << 20;
  int code = kExitFailure;
  try {
    emulator::OwnThread worker;
    worker.start([&](std::stop_token) { code = guarded_run(argc, argv, closed_std_fds); },
                 kWorkStack);
    worker.join();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "vdsorun: starting the supervisor thread: %s\n", e.what());
    return kExitFailure;
  }
  return code;
}
