// Installs its own handler for one signal (whatever disposition it inherited, as programs
// do), prints `READY pid=<pid>`, and waits for the signal.
//   catch_signal INT|QUIT|TSTP|TERM
// Prints `OK caught SIG<name>` on the signal; `FAIL timeout` if none comes within 30 s.
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tracee.h"

static volatile sig_atomic_t g_caught;

static void on_caught(int sig) {
  g_caught = sig;
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("catch_signal INT|QUIT|TSTP|TERM");
  static const struct {
    const char* name;
    int sig;
  } names[] = {{"INT", SIGINT}, {"QUIT", SIGQUIT}, {"TSTP", SIGTSTP}, {"TERM", SIGTERM}};
  int sig = 0;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; ++k) {
    if (strcmp(argv[i], names[k].name) == 0) sig = names[k].sig;
  }
  if (sig == 0) tracee_usage("unknown signal");
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_caught;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) tracee_fail("sigaction");
  tracee_say("READY pid=%d", (int)getpid());
  alarm(30);  // a hang guard: SIGALRM's default action ends the program
  sigdelset(&old, sig);
  while (!g_caught) sigsuspend(&old);
  tracee_say("OK caught SIG%s", argv[i]);
  return 0;
}
