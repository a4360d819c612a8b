// What the integration tests need to know about the machine they run on: the host kernel's
// own vsyscall mode, its version, and where vdsorun and the tracee programs are.
#pragma once

#include <string>

namespace integration {

enum class VsysMode { kNone, kXonly, kEmulate, kNative };

const char* mode_name(VsysMode m);

// From this process's /proc/self/maps: no [vsyscall] line → none, `--xp` → xonly,
// `r-xp` → emulate (a vsyscall=native kernel, <= 4.14, also shows r-xp; treated as emulate).
VsysMode host_mode();

// The running kernel's major.minor as major * 1000 + minor (6.18 → 6018).
int kernel_version();

// $VDSORUN (meson sets it to the built vdsorun).
std::string vdsorun_path();
// $VDSORUN_PROGRAMS (meson sets it to the build directory of tests/programs).
std::string programs_dir();

// Whether the dynamically linked tracee programs can run here (loader and libraries present);
// busybox guests may hold only the static programs.
bool dynamic_programs_runnable();

// Whether `name` (no slash) is found in $PATH as an executable file; returns its path or "".
std::string find_in_path(const std::string& name);

}  // namespace integration
