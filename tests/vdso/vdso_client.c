/* A glibc program started with AT_SYSINFO_EHDR pointing at the injected vDSO (see
 * userland_exec.h). It checks that the dynamic linker took our image as its vDSO and that
 * libc's time calls agree with the kernel, then prints VDSO_CLIENT_OK.
 *   vdso_client EXPECTED_EHDR_HEX OFFSET_NS   (OFFSET_NS: the MONOTONIC transform to expect) */
#define _GNU_SOURCE
#include <inttypes.h>
#include <link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(const struct timespec* t) {
  return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int fail(const char* what) {
  printf("VDSO_CLIENT_FAIL %s\n", what);
  return 1;
}

static uintptr_t vdso_map_addr;

static int find_vdso(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  (void)data;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_phdr[i].p_offset == 0 &&
        strcmp(info->dlpi_name, "linux-vdso.so.1") == 0) {
      vdso_map_addr = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage");
  const uintptr_t expected = (uintptr_t)strtoull(argv[1], NULL, 16);
  const int64_t offset = strtoll(argv[2], NULL, 10);
  if (getauxval(AT_SYSINFO_EHDR) != expected) return fail("AT_SYSINFO_EHDR");
  dl_iterate_phdr(find_vdso, NULL);
  if (vdso_map_addr != expected) return fail("the dynamic linker's vDSO is not ours");

  const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI,
                              CLOCK_MONOTONIC_RAW};
  for (int i = 0; i < 200000; ++i) {
    const clockid_t c = clocks[i % 5];
    struct timespec a, b, d;
    syscall(SYS_clock_gettime, c, &a);
    if (clock_gettime(c, &b) != 0) return fail("clock_gettime");
    syscall(SYS_clock_gettime, c, &d);
    const int64_t shift = c == CLOCK_MONOTONIC ? offset : 0;
    if (ns(&b) - shift < ns(&a) || ns(&b) - shift > ns(&d)) {
      printf("clock %d: %" PRId64 " %" PRId64 " %" PRId64 "\n", c, ns(&a), ns(&b) - shift, ns(&d));
      return fail("clock_gettime ordering");
    }
  }
  for (int i = 0; i < 10000; ++i) {
    struct timeval a, b, d;
    syscall(SYS_gettimeofday, &a, NULL);
    if (gettimeofday(&b, NULL) != 0) return fail("gettimeofday");
    syscall(SYS_gettimeofday, &d, NULL);
    const int64_t ua = a.tv_sec * 1000000LL + a.tv_usec, ub = b.tv_sec * 1000000LL + b.tv_usec,
                  ud = d.tv_sec * 1000000LL + d.tv_usec;
    if (ub < ua || ub > ud) return fail("gettimeofday ordering");
    const time_t t = time(NULL);
    if (t > (time_t)syscall(SYS_time, NULL)) return fail("time ahead of the kernel");
  }
  unsigned cpu = 0, node = 0, sys_cpu = 0, sys_node = 0;
  for (int i = 0; i < 1000; ++i) {
    syscall(SYS_getcpu, &sys_cpu, &sys_node, NULL);
    if (getcpu(&cpu, &node) != 0) return fail("getcpu");
    unsigned again = 0;
    syscall(SYS_getcpu, &again, NULL, NULL);
    if (again == sys_cpu && cpu != sys_cpu) return fail("getcpu disagrees");
  }
  struct timespec r1, r2;
  clock_getres(CLOCK_MONOTONIC_COARSE, &r1);
  syscall(SYS_clock_getres, CLOCK_MONOTONIC_COARSE, &r2);
  if (ns(&r1) != ns(&r2)) return fail("clock_getres");
  printf("VDSO_CLIENT_OK vdso at %#lx\n", (unsigned long)expected);
  return 0;
}
