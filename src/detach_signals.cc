// The detach request of vdsorun -p: a flag set by the signal handler, and a POSIX timer aimed
// at the engine thread that makes its waitpid() return EINTR until the engine has seen it.
#include "src/detach_signals.h"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace cli {
namespace {

// The interrupting signal: ignored by default, and not one vdsorun uses otherwise.
constexpr int kPokeSignal = SIGURG;
constexpr int kDetachSignals[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<int> g_requested{0};
timer_t g_timer{};
std::atomic<bool> g_timer_armed{false};
struct sigaction g_saved[3];
struct sigaction g_saved_poke, g_saved_pipe;

void on_detach_signal(int sig) {
  int none = 0;
  g_requested.compare_exchange_strong(none, sig);
  if (!g_timer_armed.exchange(true)) {
    // timer_settime is async-signal-safe (POSIX.1-2008). The first interrupt at once, then
    // every 20 ms: one may land just before the engine thread enters waitpid().
    itimerspec its{};
    its.it_value.tv_nsec = 1'000'000;
    its.it_interval.tv_nsec = 20'000'000;
    timer_settime(g_timer, 0, &its, nullptr);
  }
}

void on_poke(int) {}

}  // namespace

DetachSignals::DetachSignals() {
  sigevent sev{};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = kPokeSignal;
  sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &sev, &g_timer) != 0)
    throw std::runtime_error(std::string("timer_create: ") + std::strerror(errno));
  struct sigaction poke {};
  poke.sa_handler = on_poke;  // no SA_RESTART: waitpid() must return EINTR
  sigemptyset(&poke.sa_mask);
  sigaction(kPokeSignal, &poke, &g_saved_poke);
  struct sigaction sa {};
  sa.sa_handler = on_detach_signal;
  sa.sa_flags = SA_RESTART;  // other threads' calls go on undisturbed
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < 3; ++i) sigaction(kDetachSignals[i], &sa, &g_saved[i]);
  // Nor may vdsorun die writing its report to a closed pipe.
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &g_saved_pipe);
}

DetachSignals::~DetachSignals() {
  stop_timer();
  for (size_t i = 0; i < 3; ++i) sigaction(kDetachSignals[i], &g_saved[i], nullptr);
  sigaction(SIGPIPE, &g_saved_pipe, nullptr);
  sigaction(kPokeSignal, &g_saved_poke, nullptr);
  timer_delete(g_timer);
}

const std::atomic<int>& DetachSignals::requested() const {
  return g_requested;
}

void DetachSignals::stop_timer() {
  itimerspec off{};
  timer_settime(g_timer, 0, &off, nullptr);
}

}  // namespace cli
