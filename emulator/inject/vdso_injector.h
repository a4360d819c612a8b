// Maps a vvar object and a vDSO image into a tracee stopped at PTRACE_EVENT_EXEC and points
// AT_SYSINFO_EHDR at the image (DESIGN.md 3.6). The tracee maps both by opening vdsorun's own
// descriptors through /proc/<vdsorun>/fd read-only, so it can never write the vvar.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "emulator/inject/host_vdso.h"

namespace emulator {

struct InjectionAssets {
  pid_t supervisor_pid = 0;
  int vvar_fd = -1;         // the shared vvar object (memfd), mapped MAP_SHARED read-only
  uint64_t vvar_size = 0;   // page multiple; the image sits right above it
  int image_fd = -1;        // the vDSO image (memfd), mapped MAP_PRIVATE read+exec
  uint64_t image_size = 0;  // page multiple
  // How each process's copy of the image is linked (vdso/host_table.h): the image's own
  // links, the kernel vDSO's function offsets, and whether the tree's clocks are transformed.
  std::span<const uint8_t> image;  // the pristine image the memfd holds
  vdso::ImageLinks links;
  HostVdso host;
  bool transformed = false;
};

struct Injected {
  uint64_t vvar_addr = 0;
  uint64_t vdso_addr = 0;  // what AT_SYSINFO_EHDR now says
  uint64_t host_vdso = 0;  // what it said before: the kernel's vDSO (0 if there was none)
};

// Does the injection, in one ptrace stop where it can: a stub (inject_stub.h) borrows code
// bytes at the entry point. Where those bytes do not fit in one executable mapping, six
// remote syscalls do the same. On failure returns nullopt and says why (the program then
// keeps the kernel's vDSO); a tracee that died meanwhile is such a failure. Signals that
// arrived meanwhile are appended to `deferred`.
std::optional<Injected> inject_vdso(pid_t tid, const InjectionAssets& assets,
                                    std::vector<siginfo_t>& deferred, std::string& why);

}  // namespace emulator
