// What the integration tests need to know about the machine they run on.
#include "host.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "process.h"

namespace integration {

const char* mode_name(VsysMode m) {
  switch (m) {
    case VsysMode::kNone:
      return "none";
    case VsysMode::kXonly:
      return "xonly";
    case VsysMode::kEmulate:
      return "emulate";
    case VsysMode::kNative:
      return "native";
  }
  return "?";
}

VsysMode host_mode() {
  std::ifstream maps("/proc/self/maps");
  if (!maps) throw std::runtime_error("cannot read /proc/self/maps (is /proc mounted?)");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("[vsyscall]") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string range, perms;
    fields >> range >> perms;
    return perms.size() > 0 && perms[0] == 'r' ? VsysMode::kEmulate : VsysMode::kXonly;
  }
  return VsysMode::kNone;
}

int kernel_version() {
  utsname u;
  if (uname(&u) != 0) return 0;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return 0;
  return major * 1000 + minor;
}

// The path in $name, made absolute: tests run commands in other directories (cwd), and the
// guest harness passes paths relative to the build directory.
static std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string("set $") + name +
                             " (meson test sets it; see tests/integration/meson.build)");
  }
  if (v[0] == '/') return v;
  char* abs = realpath(v, nullptr);
  if (abs == nullptr) return v;
  std::string out(abs);
  std::free(abs);
  return out;
}

std::string vdsorun_path() {
  return required_env("VDSORUN");
}
std::string programs_dir() {
  return required_env("VDSORUN_PROGRAMS");
}

bool dynamic_programs_runnable() {
  return access("/lib64/ld-linux-x86-64.so.2", X_OK) == 0;
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace integration
