// The reader half of the vvar seqlock (the writer half is emulator/clock/vvar_object.h).
#pragma once

#include <stdint.h>

#include "vdso/vvar.h"

namespace vdso {

// A reader that keeps finding the page mid-update (a writer preempted while the counter is
// odd, or one that died there) gives up after this many attempts and asks the kernel.
inline constexpr uint32_t kMaxReadTries = 256;

inline uint64_t seq_begin(const Vvar* v) {
  return __atomic_load_n(&v->seq, __ATOMIC_ACQUIRE);
}

// True if the fields read since seq_begin() may be torn and must be read again.
inline bool seq_retry(const Vvar* v, uint64_t start) {
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(&v->seq, __ATOMIC_RELAXED) != start;
}

}  // namespace vdso
