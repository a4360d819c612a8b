// The C clock probe, built with glibc (dynamic and static), musl (static) and as a 32-bit
// static program: reports which vDSO the program was handed (AT_SYSINFO_EHDR, the loader's
// view, where each vDSO function lives), how far libc's and the vDSO's clocks stray outside a
// bracket of raw clock_gettime syscalls, getcpu on every allowed CPU, clock_getres, and
// finally which libc calls still work once the time syscalls are denied by seccomp.
// Usage: clock_probe [--exit N]   (exits with N after reporting; default 0)
#define _GNU_SOURCE
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/time.h>

#include "probe_support.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);
typedef int (*gettimeofday_fn)(struct timeval*, void*);
typedef time_t (*time_fn)(time_t*);
typedef long (*getcpu_fn)(unsigned*, unsigned*, void*);

static const char* const kSymbols[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
                                       "__vdso_getcpu", "__vdso_clock_getres"};

struct clock_case {
  clockid_t id;
  const char* name;
  clockid_t bracket;  // the raw clock read around it
};
static const struct clock_case kClocks[] = {
    {CLOCK_REALTIME, "REALTIME", CLOCK_REALTIME},
    {CLOCK_MONOTONIC, "MONOTONIC", CLOCK_MONOTONIC},
    {CLOCK_BOOTTIME, "BOOTTIME", CLOCK_BOOTTIME},
    {CLOCK_TAI, "TAI", CLOCK_TAI},
    {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW", CLOCK_MONOTONIC_RAW},
    {CLOCK_REALTIME_COARSE, "REALTIME_COARSE", CLOCK_REALTIME_COARSE},
    {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE},
};
enum { kSamples = 200 };

// A reading `v` truncated to `granularity` ns stands for an instant in [v, v + granularity).
// The result records how far that interval lay below (behind) or above (ahead of) the raw
// bracket [before, after], worst case over the samples, and how many samples were outside.
struct bracket_result {
  int64_t behind_ns, ahead_ns, width_ns;
  int failures, outside;
};

static void bracket_add(struct bracket_result* r, int64_t before, int64_t v, int64_t g,
                        int64_t after) {
  const int64_t behind = before - (v + g - 1), ahead = v - after;
  if (behind > 0 || ahead > 0) ++r->outside;
  if (behind > r->behind_ns) r->behind_ns = behind;
  if (ahead > r->ahead_ns) r->ahead_ns = ahead;
  if (after - before > r->width_ns) r->width_ns = after - before;
}

static void bracket_report(const char* source, const char* clock, int64_t granularity,
                           const struct bracket_result* r) {
  emit(
      "bracket source=%s clock=%s granularity_ns=%lld samples=%d failures=%d outside=%d "
      "behind_ns=%lld ahead_ns=%lld width_ns=%lld",
      source, clock, (long long)granularity, kSamples, r->failures, r->outside,
      (long long)r->behind_ns, (long long)r->ahead_ns, (long long)r->width_ns);
}

static void bracket_clock(const char* source, clock_gettime_fn fn, const struct clock_case* c) {
  struct bracket_result r = {0, 0, 0, 0, 0};
  for (int i = 0; i < kSamples; ++i) {
    struct timespec ts;
    const int64_t before = raw_clock_ns(c->bracket);
    const int rc = fn(c->id, &ts);
    const int64_t after = raw_clock_ns(c->bracket);
    if (rc != 0) {
      ++r.failures;
      continue;
    }
    bracket_add(&r, before, ts_ns(&ts), 1, after);
  }
  bracket_report(source, c->name, 1, &r);
}

static void bracket_gettimeofday(const char* source, gettimeofday_fn fn) {
  struct bracket_result r = {0, 0, 0, 0, 0};
  for (int i = 0; i < kSamples; ++i) {
    struct timeval tv;
    const int64_t before = raw_clock_ns(CLOCK_REALTIME);
    const int rc = fn(&tv, NULL);
    const int64_t after = raw_clock_ns(CLOCK_REALTIME);
    if (rc != 0) {
      ++r.failures;
      continue;
    }
    bracket_add(&r, before, ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec) * 1000, 1000, after);
  }
  bracket_report(source, "gettimeofday", 1000, &r);
}

// time() is the coarse realtime clock's seconds, as in the kernel.
static void bracket_time(const char* source, time_fn fn) {
  struct bracket_result r = {0, 0, 0, 0, 0};
  for (int i = 0; i < kSamples; ++i) {
    const int64_t before = raw_clock_ns(CLOCK_REALTIME_COARSE);
    const time_t t = fn(NULL);
    const int64_t after = raw_clock_ns(CLOCK_REALTIME_COARSE);
    if (t == (time_t)-1) {
      ++r.failures;
      continue;
    }
    bracket_add(&r, before, (int64_t)t * 1000000000, 1000000000, after);
  }
  bracket_report(source, "time", 1000000000, &r);
}

static int libc_gettimeofday(struct timeval* tv, void* tz) {
  return gettimeofday(tv, tz);
}

static int find_loader_vdso(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  if (info->dlpi_name == NULL || strcmp(info->dlpi_name, "linux-vdso.so.1") != 0) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_LOAD) {
      *(uintptr_t*)data = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
      return 1;
    }
  }
  return 0;
}

static int is_dynamic(void) {
  const PROBE_ELF(Phdr)* ph = (const PROBE_ELF(Phdr)*)getauxval(AT_PHDR);
  const unsigned long n = getauxval(AT_PHNUM);
  for (unsigned long i = 0; ph != NULL && i < n; ++i) {
    if (ph[i].p_type == PT_INTERP) return 1;
  }
  return 0;
}

static void report_image(struct probe_vdso* vdso, int* have_vdso) {
#if defined(__GLIBC__)
  const char* libc = "glibc";
#else
  const char* libc = "musl";
#endif
  emit("probe libc=%s bits=%d linkage=%s", libc, (int)(8 * sizeof(void*)),
       is_dynamic() ? "dynamic" : "static");
  struct probe_mapping m;
  const uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
  emit("auxv sysinfo_ehdr=%#lx mapping=%s", (unsigned long)ehdr,
       ehdr != 0 ? mapping_name(ehdr, &m) : "none");
  *have_vdso = vdso_open(ehdr, vdso);
  if (ehdr != 0 && !*have_vdso) emit("vdso_unparsable sysinfo_ehdr=%#lx", (unsigned long)ehdr);
  for (size_t i = 0; *have_vdso && i < sizeof kSymbols / sizeof kSymbols[0]; ++i) {
    const uintptr_t a = vdso_symbol(vdso, kSymbols[i]);
    emit("vdso_symbol name=%s addr=%#lx mapping=%s", kSymbols[i], (unsigned long)a,
         a != 0 ? mapping_name(a, &m) : "none");
  }
  uintptr_t loader_vdso = 0;
  dl_iterate_phdr(find_loader_vdso, &loader_vdso);
  emit("loader_vdso addr=%#lx mapping=%s", (unsigned long)loader_vdso,
       loader_vdso != 0 ? mapping_name(loader_vdso, &m) : "none");
  emit("mappings vdsorun_vdso=%d vdsorun_vvar=%d kernel_vdso=%d kernel_vvar=%d",
       count_mappings("/memfd:vdsorun-vdso"), count_mappings("/memfd:vdsorun-vvar"),
       count_mappings("[vdso]"), count_mappings("[vvar"));
}

static void report_clocks(const struct probe_vdso* vdso, int have_vdso) {
  clock_gettime_fn vdso_cgt = NULL;
  gettimeofday_fn vdso_gtod = NULL;
  time_fn vdso_time = NULL;
  if (have_vdso) {
    vdso_cgt = (clock_gettime_fn)vdso_symbol(vdso, "__vdso_clock_gettime");
    vdso_gtod = (gettimeofday_fn)vdso_symbol(vdso, "__vdso_gettimeofday");
    vdso_time = (time_fn)vdso_symbol(vdso, "__vdso_time");
  }
  for (size_t i = 0; i < sizeof kClocks / sizeof kClocks[0]; ++i) {
    bracket_clock("libc", clock_gettime, &kClocks[i]);
    if (vdso_cgt != NULL) bracket_clock("vdso", vdso_cgt, &kClocks[i]);
  }
  bracket_gettimeofday("libc", libc_gettimeofday);
  if (vdso_gtod != NULL) bracket_gettimeofday("vdso", vdso_gtod);
  bracket_time("libc", time);
  if (vdso_time != NULL) bracket_time("vdso", vdso_time);
}

static void report_getres(const struct probe_vdso* vdso, int have_vdso) {
  clock_gettime_fn vdso_getres =
      have_vdso ? (clock_gettime_fn)vdso_symbol(vdso, "__vdso_clock_getres") : NULL;
  for (size_t i = 0; i < sizeof kClocks / sizeof kClocks[0]; ++i) {
    struct timespec sys = {0, 0}, lib = {0, 0}, v = {0, 0};
    const long rs = syscall(SYS_clock_getres, kClocks[i].id, &sys);
    const int rl = clock_getres(kClocks[i].id, &lib);
    const int rv = vdso_getres != NULL ? vdso_getres(kClocks[i].id, &v) : -1;
    emit("getres clock=%s syscall=%lld libc=%lld vdso=%lld", kClocks[i].name,
         rs == 0 ? (long long)ts_ns(&sys) : -1LL, rl == 0 ? (long long)ts_ns(&lib) : -1LL,
         rv == 0 ? (long long)ts_ns(&v) : -1LL);
  }
}

static void report_getcpu(const struct probe_vdso* vdso, int have_vdso) {
  getcpu_fn vdso_getcpu = have_vdso ? (getcpu_fn)vdso_symbol(vdso, "__vdso_getcpu") : NULL;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    emit("getcpu_error sched_getaffinity=%d", errno);
    return;
  }
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) continue;
    unsigned sys_cpu = ~0U, v_cpu = ~0U, v_node = ~0U;
    syscall(SYS_getcpu, &sys_cpu, NULL, NULL);
    const int lib_cpu = sched_getcpu();
    if (vdso_getcpu != NULL) vdso_getcpu(&v_cpu, &v_node, NULL);
    emit("getcpu pinned=%d syscall=%d libc=%d vdso=%d", cpu, (int)sys_cpu, lib_cpu,
         vdso_getcpu != NULL ? (int)v_cpu : -1);
  }
  sched_setaffinity(0, sizeof allowed, &allowed);
}

static const char* result_text(int ok, int err) {
  if (ok) return "ok";
  return err == EPERM ? "EPERM" : strerror(err);
}

// Irreversible: the last thing the probe does.
static void report_without_syscalls(void) {
  const int err = deny_time_syscalls();
  if (err != 0) {
    emit("nosyscall_error seccomp=%s", strerror(err));
    return;
  }
  struct timespec ts;
  struct timeval tv;
  errno = 0;
  const long raw = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  emit("nosyscall call=raw_clock_gettime result=%s", result_text(raw == 0, errno));
  errno = 0;
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  emit("nosyscall call=clock_gettime_realtime result=%s", result_text(rc == 0, errno));
  errno = 0;
  rc = clock_gettime(CLOCK_MONOTONIC, &ts);
  emit("nosyscall call=clock_gettime_monotonic result=%s", result_text(rc == 0, errno));
  errno = 0;
  rc = gettimeofday(&tv, NULL);
  emit("nosyscall call=gettimeofday result=%s", result_text(rc == 0, errno));
  errno = 0;
  const time_t t = time(NULL);
  emit("nosyscall call=time result=%s", result_text(t != (time_t)-1, errno));
  errno = 0;
  const int cpu = sched_getcpu();
  emit("nosyscall call=sched_getcpu result=%s", result_text(cpu >= 0, errno));
  errno = 0;
  rc = clock_getres(CLOCK_MONOTONIC, &ts);
  emit("nosyscall call=clock_getres result=%s", result_text(rc == 0, errno));
}

int main(int argc, char** argv) {
  int exit_code = 0;
  if (argc == 3 && strcmp(argv[1], "--exit") == 0) exit_code = atoi(argv[2]);
  struct probe_vdso vdso;
  int have_vdso = 0;
  report_image(&vdso, &have_vdso);
  if (getauxval(AT_SYSINFO_EHDR) != 0) wait_for_fast_path(3000);
  report_clocks(&vdso, have_vdso);
  report_getres(&vdso, have_vdso);
  report_getcpu(&vdso, have_vdso);
  report_without_syscalls();
  emit("done exit=%d", exit_code);
  return exit_code;
}
