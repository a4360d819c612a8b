// Alternates the vDSO (the one at AT_SYSINFO_EHDR, called directly) and the legacy vsyscall
// entries for a while and reports every disagreement in order:
//   vDSO clock_gettime(REALTIME) <= vsyscall gettimeofday <= vDSO clock_gettime(REALTIME)
// at microsecond granularity, and vDSO time() <= vsyscall time() <= vDSO time() (both the
// coarse realtime clock's seconds).
// Usage: vsys_agree [SECONDS]   (default 2)
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/time.h>

#include "probe_support.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);
typedef int (*gettimeofday_fn)(struct timeval*, void*);
typedef time_t (*time_fn)(time_t*);

#define VSYS_GETTIMEOFDAY 0xffffffffff600000UL
#define VSYS_TIME 0xffffffffff600400UL

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  struct probe_vdso vdso;
  struct probe_mapping m;
  const uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
  if (!vdso_open(ehdr, &vdso)) {
    emit("error no_vdso sysinfo_ehdr=%#lx", (unsigned long)ehdr);
    return 1;
  }
  const clock_gettime_fn vdso_cgt = (clock_gettime_fn)vdso_symbol(&vdso, "__vdso_clock_gettime");
  const time_fn vdso_time = (time_fn)vdso_symbol(&vdso, "__vdso_time");
  if (vdso_cgt == NULL || vdso_time == NULL) {
    emit("error missing_symbols");
    return 1;
  }
  emit("vdso clock_gettime_mapping=%s", mapping_name((uintptr_t)vdso_cgt, &m));
  wait_for_fast_path(3000);
  const gettimeofday_fn vsys_gtod = (gettimeofday_fn)VSYS_GETTIMEOFDAY;
  const time_fn vsys_time = (time_fn)VSYS_TIME;

  long gtod_samples = 0, gtod_bad = 0, time_samples = 0, time_bad = 0, seconds_crossed = 0;
  long long worst_gtod_us = 0;
  const int64_t end = raw_clock_ns(CLOCK_MONOTONIC) + (int64_t)(seconds * 1e9);
  while (raw_clock_ns(CLOCK_MONOTONIC) < end) {
    for (int i = 0; i < 64; ++i) {
      struct timespec before, after;
      struct timeval tv;
      vdso_cgt(CLOCK_REALTIME, &before);
      const int rc = vsys_gtod(&tv, NULL);
      vdso_cgt(CLOCK_REALTIME, &after);
      const long long b = (long long)before.tv_sec * 1000000 + before.tv_nsec / 1000;
      const long long a = (long long)after.tv_sec * 1000000 + after.tv_nsec / 1000;
      const long long v = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
      ++gtod_samples;
      if (rc != 0 || v < b || v > a) {
        const long long off = rc != 0 ? -1 : (v < b ? b - v : v - a);
        if (gtod_bad < 5) {
          emit(
              "gettimeofday_violation rc=%d vdso_before_us=%lld vsyscall_us=%lld "
              "vdso_after_us=%lld",
              rc, b, v, a);
        }
        ++gtod_bad;
        if (off > worst_gtod_us) worst_gtod_us = off;
      }

      const time_t tb = vdso_time(NULL);
      const time_t tv2 = vsys_time(NULL);
      const time_t ta = vdso_time(NULL);
      ++time_samples;
      if (ta != tb) ++seconds_crossed;
      if (tv2 < tb || tv2 > ta) {
        if (time_bad < 5) {
          emit("time_violation vdso_before=%lld vsyscall=%lld vdso_after=%lld", (long long)tb,
               (long long)tv2, (long long)ta);
        }
        ++time_bad;
      }
    }
  }
  emit("gettimeofday samples=%ld violations=%ld worst_us=%lld", gtod_samples, gtod_bad,
       worst_gtod_us);
  emit("time samples=%ld violations=%ld seconds_crossed=%ld", time_samples, time_bad,
       seconds_crossed);
  return 0;
}
