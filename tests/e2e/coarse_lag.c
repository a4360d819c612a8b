// Samples libc's CLOCK_REALTIME_COARSE and CLOCK_MONOTONIC_COARSE (a vDSO's, when there is
// one) between two raw syscall readings of the same clock, 20 us apart, for a while, and
// reports how often and by how much the vDSO's value lay behind or ahead of the kernel's.
// Usage: coarse_lag [SECONDS]   (default 0.5)
#define _GNU_SOURCE
#include <stdlib.h>

#include "probe_support.h"

static void sample(clockid_t clock, const char* name, double seconds) {
  long samples = 0, behind = 0, ahead = 0, episodes = 0;
  int64_t max_behind = 0, max_ahead = 0, longest_ns = 0, episode_start = -1;
  const int64_t end = raw_clock_ns(CLOCK_MONOTONIC) + (int64_t)(seconds * 1e9);
  for (;;) {
    const int64_t now = raw_clock_ns(CLOCK_MONOTONIC);
    if (now >= end) break;
    struct timespec ts;
    const int64_t before = raw_clock_ns(clock);
    clock_gettime(clock, &ts);
    const int64_t after = raw_clock_ns(clock);
    const int64_t v = ts_ns(&ts);
    ++samples;
    if (v < before || v > after) {
      if (v < before) {
        ++behind;
        if (before - v > max_behind) max_behind = before - v;
      } else {
        ++ahead;
        if (v - after > max_ahead) max_ahead = v - after;
      }
      if (episode_start < 0) {
        episode_start = now;
        ++episodes;
      }
    } else if (episode_start >= 0) {
      if (now - episode_start > longest_ns) longest_ns = now - episode_start;
      episode_start = -1;
    }
    usleep(20);
  }
  struct timespec res;
  clock_getres(clock, &res);
  emit(
      "coarse clock=%s tick_ns=%lld samples=%ld behind=%ld ahead=%ld max_behind_ns=%lld "
      "max_ahead_ns=%lld episodes=%ld longest_episode_us=%lld",
      name, (long long)ts_ns(&res), samples, behind, ahead, (long long)max_behind,
      (long long)max_ahead, episodes, (long long)(longest_ns / 1000));
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 0.5;
  struct probe_mapping m;
  const uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
  emit("auxv sysinfo_ehdr=%#lx mapping=%s", (unsigned long)ehdr,
       ehdr != 0 ? mapping_name(ehdr, &m) : "none");
  if (ehdr != 0) wait_for_fast_path(3000);
  sample(CLOCK_REALTIME_COARSE, "REALTIME_COARSE", seconds);
  sample(CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE", seconds);
  return 0;
}
