// Bench program: times fork+exec+wait of one or more commands, alternating them, per run.
//
// usage: spawn_timer ROUNDS CMD_A [ARGS...] [:: CMD_B [ARGS...]]...
// Each round runs every command once, starting one further each round (A B, B A, ...), so that
// a noisy neighbour and cache warmth favour none of them. One line per run on stdout: "<command
// index> <wall ns> <exit status>". Children's stdout goes to /dev/null; their stderr stays, so
// failures are visible.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_clock.h"

#define BENCH_MAX_COMMANDS 8

// Runs argv to completion; returns its wait status, or -1 if fork failed.
static int run_once(char** argv, int devnull) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(devnull, STDOUT_FILENO);
    execvp(argv[0], argv);
    // Only async-signal-safe calls between fork and exec.
    static const char kMsg[] = "spawn_timer: exec failed\n";
    if (write(STDERR_FILENO, kMsg, sizeof kMsg - 1) < 0) {
    }
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s ROUNDS CMD_A [ARGS...] [:: CMD_B [ARGS...]]...\n", argv[0]);
    return 2;
  }
  long rounds = bench_count_arg(argc, argv, 1);
  if (rounds < 0) {
    fprintf(stderr, "spawn_timer: ROUNDS must be a positive number\n");
    return 2;
  }

  // Split argv[2..] at "::" in place: each command's argv ends where a "::" was.
  char** commands[BENCH_MAX_COMMANDS];
  int ncommands = 0;
  commands[ncommands++] = &argv[2];
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "::") != 0) continue;
    argv[i] = NULL;
    if (i + 1 >= argc || ncommands == BENCH_MAX_COMMANDS) {
      fprintf(stderr, "spawn_timer: empty command after '::' or more than %d commands\n",
              BENCH_MAX_COMMANDS);
      return 2;
    }
    commands[ncommands++] = &argv[i + 1];
  }
  for (int c = 0; c < ncommands; ++c) {
    if (commands[c][0] == NULL) {
      fprintf(stderr, "spawn_timer: command %d is empty\n", c);
      return 2;
    }
  }

  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) {
    perror("spawn_timer: open /dev/null");
    return 1;
  }
  int failed = 0;
  for (long r = 0; r < rounds; ++r) {
    for (int k = 0; k < ncommands; ++k) {
      int c = (int)((r + k) % ncommands);
      int64_t start = bench_now_ns();
      int status = run_once(commands[c], devnull);
      int64_t elapsed = bench_now_ns() - start;
      if (status < 0) {
        perror("spawn_timer: fork/wait");
        return 1;
      }
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      failed |= code != 0;
      printf("%d %lld %d\n", c, (long long)elapsed, code);
    }
  }
  return failed ? 3 : 0;
}
