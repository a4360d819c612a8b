// The clock-path decision (see clock_choice.h).
#include "emulator/clock/clock_choice.h"

namespace emulator {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

bool has_flag(std::string_view flags, std::string_view flag) {
  size_t pos = 0;
  while ((pos = flags.find(flag, pos)) != std::string_view::npos) {
    const bool starts = pos == 0 || flags[pos - 1] == ' ' || flags[pos - 1] == '\t';
    const size_t end = pos + flag.size();
    const bool ends =
        end == flags.size() || flags[end] == ' ' || flags[end] == '\n' || flags[end] == '\t';
    if (starts && ends) return true;
    pos = end;
  }
  return false;
}

}  // namespace

bool kernel_vdso_reads_fast(std::string_view clocksource) {
  const std::string_view cs = trimmed(clocksource);
  return cs == "tsc" || cs == "kvm-clock" || cs == "hyperv_clocksource_tsc_page";
}

const char* clock_path_name(ClockPath path) {
  switch (path) {
    case ClockPath::kTsc:
      return "tsc";
    case ClockPath::kKernelVdso:
      return "kernel-vdso";
    case ClockPath::kSyscall:
      return "syscall";
  }
  return "?";
}

ClockChoice choose_clock(const ClockFacts& facts) {
  const std::string_view cs = trimmed(facts.clocksource);
  const std::string cs_name = cs.empty() ? std::string("unknown") : std::string(cs);
  ClockChoice c;
  auto not_tsc = [&](const std::string& why) {
    c.path = facts.kernel_vdso ? ClockPath::kKernelVdso : ClockPath::kSyscall;
    c.fast = facts.kernel_vdso && kernel_vdso_reads_fast(cs);
    c.why = why + (facts.kernel_vdso ? "; the vDSO calls the kernel's vDSO"
                                     : "; the vDSO makes syscalls (the kernel gave no vDSO)");
    return c;
  };
  if (!has_flag(facts.cpu_flags, "constant_tsc")) {
    return not_tsc("the TSC rate is not constant (no constant_tsc)");
  }
  if (!has_flag(facts.cpu_flags, "nonstop_tsc")) {
    return not_tsc("the TSC stops in idle states (no nonstop_tsc)");
  }
  if (cs == "tsc") {
    c.path = ClockPath::kTsc;
    c.fast = true;
    c.why = "clocksource tsc: the kernel vouches for the TSC across CPUs";
    return c;
  }
  if (cs == "kvm-clock" || cs == "hyperv_clocksource_tsc_page" || cs == "xen") {
    return not_tsc("clocksource " + cs_name +
                   ": the hypervisor moves it off the TSC at moments only the kernel's vDSO sees");
  }
  return not_tsc("the kernel's clocksource is " + cs_name + ", not tsc");
}

}  // namespace emulator
