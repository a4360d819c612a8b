// What vdsorun keeps per traced process (thread group) for its current image, beside the
// per-thread Tracee: things that live in the process's memory. A fork copies it (the child's
// memory is a copy); an exec starts a new one.
#pragma once

#include <cstdint>

#include "emulator/inject/call_patcher.h"

namespace emulator {

struct Process {
  // Where its read-only copy of the page image is (displaced reads), 0 if none yet.
  uint64_t shadow_page = 0;
  // Its injected vDSO's image [begin, end): clock syscalls from there are the vDSO's own
  // fallbacks, which apply the tree's time transform themselves.
  uint64_t vdso_begin = 0;
  uint64_t vdso_end = 0;
  // Its call-site patches and trampoline page.
  PatchState patches;
};

}  // namespace emulator
