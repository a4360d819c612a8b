// The C++ clock probe: std::chrono's system_clock and steady_clock (libstdc++ over glibc's
// clock_gettime) against a bracket of raw clock_gettime syscalls, which vDSO the program was
// handed, and whether std::chrono still reads sane values once the time syscalls are denied.
// Output lines as clock_probe.c's (probe_support.h).
#include <chrono>
#include <cstdint>

#include "probe_support.h"

namespace {

constexpr int kSamples = 200;

template <typename Clock>
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

template <typename Clock>
void bracket(const char* name, clockid_t raw) {
  int64_t behind = 0, ahead = 0, width = 0;
  int outside = 0;
  for (int i = 0; i < kSamples; ++i) {
    const int64_t before = raw_clock_ns(raw);
    const int64_t v = now_ns<Clock>();
    const int64_t after = raw_clock_ns(raw);
    if (v < before || v > after) ++outside;
    behind = std::max(behind, before - v);
    ahead = std::max(ahead, v - after);
    width = std::max(width, after - before);
  }
  emit(
      "bracket source=chrono clock=%s granularity_ns=1 samples=%d failures=0 outside=%d "
      "behind_ns=%lld ahead_ns=%lld width_ns=%lld",
      name, kSamples, outside, static_cast<long long>(behind), static_cast<long long>(ahead),
      static_cast<long long>(width));
}

void report_image() {
  probe_mapping m;
  const uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
  emit("probe libc=glibc lang=c++");
  emit("auxv sysinfo_ehdr=%#lx mapping=%s", static_cast<unsigned long>(ehdr),
       ehdr != 0 ? mapping_name(ehdr, &m) : "none");
  probe_vdso vdso;
  if (vdso_open(ehdr, &vdso)) {
    const uintptr_t a = vdso_symbol(&vdso, "__vdso_clock_gettime");
    emit("vdso_symbol name=__vdso_clock_gettime addr=%#lx mapping=%s",
         static_cast<unsigned long>(a), a != 0 ? mapping_name(a, &m) : "none");
  }
  emit("mappings vdsorun_vdso=%d vdsorun_vvar=%d kernel_vdso=%d",
       count_mappings("/memfd:vdsorun-vdso"), count_mappings("/memfd:vdsorun-vvar"),
       count_mappings("[vdso]"));
}

// Irreversible: the last thing the probe does. A denied clock_gettime leaves libstdc++ with an
// uninitialised timespec, so a value near the last raw reading means a vDSO answered.
void report_without_syscalls() {
  const int64_t real_before = raw_clock_ns(CLOCK_REALTIME);
  const int64_t mono_before = raw_clock_ns(CLOCK_MONOTONIC);
  const int err = deny_time_syscalls();
  if (err != 0) {
    emit("nosyscall_error seccomp=%s", strerror(err));
    return;
  }
  constexpr int64_t kSane = 10'000'000'000;  // 10 s
  const int64_t real = now_ns<std::chrono::system_clock>() - real_before;
  const int64_t mono = now_ns<std::chrono::steady_clock>() - mono_before;
  emit("nosyscall call=system_clock result=%s delta_ns=%lld",
       real >= 0 && real < kSane ? "ok" : "insane", static_cast<long long>(real));
  emit("nosyscall call=steady_clock result=%s delta_ns=%lld",
       mono >= 0 && mono < kSane ? "ok" : "insane", static_cast<long long>(mono));
}

}  // namespace

int main() {
  report_image();
  if (getauxval(AT_SYSINFO_EHDR) != 0) wait_for_fast_path(3000);
  bracket<std::chrono::system_clock>("system_clock", CLOCK_REALTIME);
  bracket<std::chrono::steady_clock>("steady_clock", CLOCK_MONOTONIC);
  bracket<std::chrono::high_resolution_clock>("high_resolution_clock", CLOCK_REALTIME);
  report_without_syscalls();
  emit("done exit=0");
  return 0;
}
