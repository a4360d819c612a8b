// What the timekeeper asks the machine: the CPU's TSC flags, the kernel's clocksource, and
// which instruction yields the kernel's cpunode word.
#include "emulator/clock/timekeeper_probe.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emulator/trace/maps.h"
#include "vdso/getcpu.h"

namespace emulator {
namespace {

// The first line of `path` that starts with `prefix`. Read through read_text_file(), which
// opens close-on-exec: this runs on the timekeeper thread while the engine forks and execs,
// and a descriptor opened without O_CLOEXEC at that moment would leak into the program.
std::string read_first_line(const char* path, std::string_view prefix = {}) {
  const auto text = read_text_file(path);
  if (!text) return {};
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    if (line.substr(0, prefix.size()) == prefix) return std::string(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return {};
}

// The kernel's (node << 12) | cpu for the calling thread, by syscall.
std::optional<uint32_t> sys_cpunode() {
  unsigned cpu = 0;
  unsigned node = 0;
  if (syscall(SYS_getcpu, &cpu, &node, nullptr) != 0) return std::nullopt;
  return (node << vdso::kCpunodeCpuBits) | cpu;
}

bool cpu_supports(vdso::GetcpuMethod m, const std::string& flags) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  const auto has_flag = [&](const char* word) {
    return (" " + flags + " ").find(std::string(" ") + word + " ") != std::string::npos;
  };
  switch (m) {
    case vdso::kGetcpuRdpid:
      // The kernel lists rdpid only if it also loads IA32_TSC_AUX with the cpunode word.
      return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 22)) && has_flag("rdpid");
    case vdso::kGetcpuRdtscp:
      return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27)) && has_flag("rdtscp");
    case vdso::kGetcpuLsl:
      return true;  // lsl cannot fault; an unusable segment only clears ZF
    case vdso::kGetcpuSyscall:
      return true;
  }
  return false;
}

std::optional<uint32_t> execute(vdso::GetcpuMethod m) {
  uint32_t p = 0;
  switch (m) {
    case vdso::kGetcpuRdpid:
      return vdso::cpunode_rdpid();
    case vdso::kGetcpuRdtscp:
      return vdso::cpunode_rdtscp();
    case vdso::kGetcpuLsl:
      return vdso::cpunode_lsl(&p) ? std::optional<uint32_t>(p) : std::nullopt;
    case vdso::kGetcpuSyscall:
      return sys_cpunode();
  }
  return std::nullopt;
}

// True if `m` is safe to execute here and agrees with the getcpu syscall.
bool method_works(vdso::GetcpuMethod m, const std::string& flags) {
  if (!cpu_supports(m, flags)) return false;
  for (int i = 0; i < 16; ++i) {
    const auto before = sys_cpunode();
    const auto value = execute(m);
    const auto after = sys_cpunode();
    if (!before || !after || *before != *after) continue;  // migrated: try again
    return value == before;
  }
  return false;
}

}  // namespace

std::string cpu_flags() {
  return read_first_line("/proc/cpuinfo", "flags");
}

std::string current_clocksource() {
  return read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
}

vdso::GetcpuMethod choose_getcpu_method(std::optional<vdso::GetcpuMethod> wanted) {
  const std::string flags = cpu_flags();
  if (wanted && method_works(*wanted, flags)) return *wanted;
  for (vdso::GetcpuMethod m : {vdso::kGetcpuRdpid, vdso::kGetcpuRdtscp, vdso::kGetcpuLsl}) {
    if (method_works(m, flags)) return m;
  }
  return vdso::kGetcpuSyscall;
}

const char* getcpu_method_name(vdso::GetcpuMethod m) {
  switch (m) {
    case vdso::kGetcpuRdpid:
      return "rdpid";
    case vdso::kGetcpuRdtscp:
      return "rdtscp";
    case vdso::kGetcpuLsl:
      return "lsl";
    case vdso::kGetcpuSyscall:
      return "syscall";
  }
  return "?";
}

}  // namespace emulator
