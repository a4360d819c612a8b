/* A legacy-style program: reads the clock the way statically linked glibc <= 2.14 and old Go
 * did, by calling into the vsyscall page at 0xffffffffff600000 instead of using the vDSO.
 * On a kernel booted with vsyscall=none it dies with SIGSEGV at its first call. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* glibc 2.12 gettimeofday: `mov $0xffffffffff600000,%rax; call *%rax`. */
static long legacy_gettimeofday(struct timeval *tv, struct timezone *tz) {
  long ret;
  __asm__ volatile("mov $0xffffffffff600000, %%rax\n\tcall *%%rax"
                   : "=a"(ret)
                   : "D"(tv), "S"(tz)
                   : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
  return ret;
}

/* glibc 2.12 time(): a tail call, `mov $0xffffffffff600400,%rax; jmp *%rax`. */
__attribute__((naked, noinline)) static long legacy_time(long *t) {
  (void)t;
  __asm__ volatile("mov $0xffffffffff600400, %rax\n\tjmp *%rax");
}

/* sched_getcpu() of the same era: the getcpu entry through a function pointer. */
static long legacy_getcpu(unsigned *cpu, unsigned *node) {
  long (*vgetcpu)(unsigned *, unsigned *, void *) =
      (long (*)(unsigned *, unsigned *, void *))0xffffffffff600800UL;
  return vgetcpu(cpu, node, NULL);
}

int main(void) {
  struct timeval tv;
  if (legacy_gettimeofday(&tv, NULL) != 0) return 1;
  long t = 0;
  long r = legacy_time(&t);
  unsigned cpu = 0, node = 0;
  if (legacy_getcpu(&cpu, &node) != 0) return 1;
  char buf[64];
  time_t now = (time_t)tv.tv_sec;
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
  printf("legacy_clock: gettimeofday says %s (+%06ld us)\n", buf, (long)tv.tv_usec);
  printf("legacy_clock: time says %ld (returned %ld)\n", t, r);
  printf("legacy_clock: running on cpu %u, node %u\n", cpu, node);
  /* A logger stamping records: one hot call site. Under vdsorun it stops once, then is
   * patched to call vdsorun's vDSO directly (see the report). */
  enum { kRecords = 100000 };
  struct timeval prev = tv, stamp;
  for (int i = 0; i < kRecords; ++i) {
    if (legacy_gettimeofday(&stamp, NULL) != 0) return 1;
    if (stamp.tv_sec < prev.tv_sec || (stamp.tv_sec == prev.tv_sec && stamp.tv_usec < prev.tv_usec)) {
      printf("legacy_clock: the clock went back at record %d\n", i);
      return 1;
    }
    prev = stamp;
  }
  printf("legacy_clock: stamped %d log records, the clock never went back\n", kRecords);
  long diff = t - (long)tv.tv_sec;
  return diff >= 0 && diff <= 2 ? 0 : 1;
}
