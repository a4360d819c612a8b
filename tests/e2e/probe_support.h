// What the end-to-end probe programs share: line output, raw clock syscalls, the vDSO found
// through getauxval(AT_SYSINFO_EHDR) and its dynamic symbols, /proc/self/maps lookups, and a
// seccomp filter that makes the clock syscalls fail. C (glibc, musl, 32-bit) and C++.
//
// Output: one `key=value ...` record per line, each written with one write(2); the test
// driver (e2e_test.cc) parses them. The probes measure and report; the driver decides.
#ifndef E2E_PROBE_SUPPORT_H
#define E2E_PROBE_SUPPORT_H

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__LP64__)
#define PROBE_ELF(type) Elf64_##type
#else
#define PROBE_ELF(type) Elf32_##type
#endif

// Writes one formatted line with one write(2).
static inline void emit(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void emit(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)(sizeof line - 2);
  line[n++] = '\n';
  ssize_t w = write(1, line, (size_t)n);
  (void)w;
}

static inline int64_t ts_ns(const struct timespec* ts) {
  return (int64_t)ts->tv_sec * 1000000000 + (int64_t)ts->tv_nsec;
}

// The kernel's clock, never through any vDSO. (Not among the numbers vdsorun traces.)
static inline int64_t raw_clock_ns(clockid_t clock) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, clock, &ts) != 0) return -1;
  return ts_ns(&ts);
}

// --- /proc/self/maps ---

struct probe_mapping {
  uintptr_t start, end;
  char perms[8];
  char name[256];  // "" for an anonymous mapping
};

// The mapping holding `addr`; returns 0 when none does.
static inline int mapping_of(uintptr_t addr, struct probe_mapping* out) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 0;
  char line[512];
  int found = 0;
  while (!found && fgets(line, sizeof line, f) != NULL) {
    unsigned long start, end;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) < 3) continue;
    if (addr < start || addr >= end) continue;
    out->start = start;
    out->end = end;
    memcpy(out->perms, perms, sizeof perms);
    snprintf(out->name, sizeof out->name, "%s", name_at > 0 ? line + name_at : "");
    out->name[strcspn(out->name, "\n")] = '\0';
    found = 1;
  }
  fclose(f);
  return found;
}

// The name of the mapping holding `addr`, "unmapped", or "anonymous".
static inline const char* mapping_name(uintptr_t addr, struct probe_mapping* m) {
  if (!mapping_of(addr, m)) return "unmapped";
  return m->name[0] != '\0' ? m->name : "anonymous";
}

// How many lines of /proc/self/maps contain `needle`.
static inline int count_mappings(const char* needle) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return -1;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strstr(line, needle) != NULL) ++n;
  }
  fclose(f);
  return n;
}

// --- the vDSO at AT_SYSINFO_EHDR, parsed the way a libc does: program headers, then the
// dynamic section's symbol and string tables (symbol count from DT_HASH, else DT_GNU_HASH) ---

struct probe_vdso {
  uintptr_t bias;  // load address minus the first PT_LOAD's p_vaddr
  const PROBE_ELF(Sym) * symtab;
  const char* strtab;
  uint32_t nsyms;
};

static inline uint32_t gnu_hash_symbol_count(const uint32_t* h) {
  const uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
  const uint32_t* buckets = h + 4 + bloom_size * (sizeof(uintptr_t) / 4);
  const uint32_t* chain = buckets + nbuckets;
  uint32_t last = 0;
  for (uint32_t i = 0; i < nbuckets; ++i) {
    if (buckets[i] > last) last = buckets[i];
  }
  if (last < symoffset) return symoffset;
  while ((chain[last - symoffset] & 1) == 0) ++last;
  return last + 1;
}

// Returns 0 when there is no vDSO or it does not parse.
static inline int vdso_open(uintptr_t base, struct probe_vdso* v) {
  if (base == 0) return 0;
  const PROBE_ELF(Ehdr)* eh = (const PROBE_ELF(Ehdr)*)base;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) return 0;
  const PROBE_ELF(Phdr)* ph = (const PROBE_ELF(Phdr)*)(base + eh->e_phoff);
  const PROBE_ELF(Dyn)* dyn = NULL;
  int have_load = 0;
  memset(v, 0, sizeof *v);
  for (int i = 0; i < eh->e_phnum; ++i) {
    if (ph[i].p_type == PT_LOAD && !have_load) {
      v->bias = base + ph[i].p_offset - ph[i].p_vaddr;
      have_load = 1;
    } else if (ph[i].p_type == PT_DYNAMIC) {
      dyn = (const PROBE_ELF(Dyn)*)(base + ph[i].p_offset);
    }
  }
  if (!have_load || dyn == NULL) return 0;
  const uint32_t* hash = NULL;
  const uint32_t* gnu_hash = NULL;
  for (; dyn->d_tag != DT_NULL; ++dyn) {
    const uintptr_t at = v->bias + dyn->d_un.d_ptr;
    if (dyn->d_tag == DT_SYMTAB) v->symtab = (const PROBE_ELF(Sym)*)at;
    if (dyn->d_tag == DT_STRTAB) v->strtab = (const char*)at;
    if (dyn->d_tag == DT_HASH) hash = (const uint32_t*)at;
    if (dyn->d_tag == DT_GNU_HASH) gnu_hash = (const uint32_t*)at;
  }
  if (v->symtab == NULL || v->strtab == NULL) return 0;
  if (hash != NULL) {
    v->nsyms = hash[1];
  } else if (gnu_hash != NULL) {
    v->nsyms = gnu_hash_symbol_count(gnu_hash);
  } else {
    return 0;
  }
  return 1;
}

// The address of a defined function symbol, or 0.
static inline uintptr_t vdso_symbol(const struct probe_vdso* v, const char* name) {
  for (uint32_t i = 0; i < v->nsyms; ++i) {
    const PROBE_ELF(Sym)* s = &v->symtab[i];
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0) continue;
    if (strcmp(v->strtab + s->st_name, name) == 0) return v->bias + s->st_value;
  }
  return 0;
}

// --- a seccomp filter that fails the time syscalls with EPERM, so that whatever still works
// afterwards was served without a syscall (by a vDSO). Kernel ABI spelled out here because
// musl's headers carry no <linux/...>. ---

struct probe_sock_filter {
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};
struct probe_sock_fprog {
  unsigned short len;
  struct probe_sock_filter* filter;
};

#define PROBE_BPF_LD_W_ABS 0x20
#define PROBE_BPF_JEQ_K 0x15
#define PROBE_BPF_RET_K 0x06
#define PROBE_SECCOMP_RET_ALLOW 0x7fff0000U
#define PROBE_SECCOMP_RET_ERRNO 0x00050000U
#define PROBE_SECCOMP_SET_MODE_FILTER 1
#if defined(__x86_64__)
#define PROBE_AUDIT_ARCH 0xc000003eU
#else
#define PROBE_AUDIT_ARCH 0x40000003U
#endif

static inline struct probe_sock_filter probe_stmt(uint16_t code, uint8_t jt, uint8_t jf,
                                                  uint32_t k) {
  struct probe_sock_filter s;
  s.code = code;
  s.jt = jt;
  s.jf = jf;
  s.k = k;
  return s;
}

// Returns 0 on success, else an errno.
static inline int deny_time_syscalls(void) {
  static const long numbers[] = {
      SYS_clock_gettime,   SYS_gettimeofday,        SYS_time, SYS_getcpu, SYS_clock_getres,
#ifdef SYS_clock_gettime64
      SYS_clock_gettime64, SYS_clock_getres_time64,
#endif
  };
  enum { kCount = sizeof numbers / sizeof numbers[0] };
  struct probe_sock_filter f[4 + kCount + 2];
  int n = 0;
  // seccomp_data: nr at offset 0, arch at offset 4.
  f[n++] = probe_stmt(PROBE_BPF_LD_W_ABS, 0, 0, 4);
  f[n++] = probe_stmt(PROBE_BPF_JEQ_K, 1, 0, PROBE_AUDIT_ARCH);
  f[n++] = probe_stmt(PROBE_BPF_RET_K, 0, 0, PROBE_SECCOMP_RET_ALLOW);
  f[n++] = probe_stmt(PROBE_BPF_LD_W_ABS, 0, 0, 0);
  for (int i = 0; i < kCount; ++i) {
    // Match: jump over the remaining tests and the ALLOW to the ERRNO return.
    f[n++] = probe_stmt(PROBE_BPF_JEQ_K, (uint8_t)(kCount - i), 0, (uint32_t)numbers[i]);
  }
  f[n++] = probe_stmt(PROBE_BPF_RET_K, 0, 0, PROBE_SECCOMP_RET_ALLOW);
  f[n++] = probe_stmt(PROBE_BPF_RET_K, 0, 0, PROBE_SECCOMP_RET_ERRNO | EPERM);
  struct probe_sock_fprog prog = {(unsigned short)n, f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (syscall(SYS_seccomp, PROBE_SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  return 0;
}

// Whether a forked child with the time syscalls denied can read CLOCK_REALTIME and
// CLOCK_MONOTONIC through libc: true once the vDSO serves them without a syscall. (vdsorun's
// vvar becomes valid only after the supervisor has calibrated the TSC, some milliseconds after
// it started; until then its vDSO asks the kernel, which is correct but not what these probes
// are here to measure.)
static inline int vdso_serves_without_syscalls(void) {
  const pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    struct timespec a, b;
    if (deny_time_syscalls() != 0) _exit(2);
    _exit(clock_gettime(CLOCK_REALTIME, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0 ? 0
                                                                                            : 1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Polls vdso_serves_without_syscalls() every 2 ms for up to `limit_ms`; reports
// `fast_path after_ms=N` (or `fast_path after_ms=never`) and returns whether it came.
static inline int wait_for_fast_path(int limit_ms) {
  const int64_t start = raw_clock_ns(CLOCK_MONOTONIC);
  for (;;) {
    const int64_t waited_ms = (raw_clock_ns(CLOCK_MONOTONIC) - start) / 1000000;
    if (vdso_serves_without_syscalls()) {
      emit("fast_path after_ms=%lld", (long long)waited_ms);
      return 1;
    }
    if (waited_ms >= limit_ms) break;
    usleep(2000);
  }
  emit("fast_path after_ms=never");
  return 0;
}

#endif  // E2E_PROBE_SUPPORT_H
