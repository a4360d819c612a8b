// What the timekeeper asks the machine: the CPU's TSC flags, the kernel's clocksource, and
// which instruction yields the kernel's cpunode word (for the vDSO's getcpu).
#pragma once

#include <optional>
#include <string>

#include "vdso/vvar.h"

namespace emulator {

// The "flags" line of /proc/cpuinfo ("" if unreadable).
std::string cpu_flags();
// /sys/devices/system/clocksource/clocksource0/current_clocksource ("" if unreadable).
std::string current_clocksource();

// `wanted` if it works here, else the first of rdpid, rdtscp, lsl that does, else syscall.
// A method works if the CPU and the kernel support it (CPUID and /proc/cpuinfo agree, so it
// cannot fault) and it matches the getcpu syscall on this CPU.
vdso::GetcpuMethod choose_getcpu_method(std::optional<vdso::GetcpuMethod> wanted);
const char* getcpu_method_name(vdso::GetcpuMethod m);

}  // namespace emulator
