// The vDSO image built into vdsorun, and how the injector lays it out in a tracee.
//
// One injection occupies injection_size() bytes at a page-aligned address X:
//   [X, X + kVvarSize)                      the vvar object, mmap(PROT_READ, MAP_SHARED|MAP_FIXED)
//   [X + kVvarSize, X + injection_size())   image() from a memfd,
//                                           mmap(PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED)
// and AT_SYSINFO_EHDR = X + kImageOffset (the image's ELF header). The image is position
// independent and relocation-free; its code finds the vvar exactly kVvarSize below itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vdso/image_check.h"
#include "vdso/vvar.h"

namespace vdso {

// The ELF file, which is also its memory image (p_offset == p_vaddr, one PT_LOAD at 0).
// Page-aligned in vdsorun's memory.
std::span<const uint8_t> image();

inline constexpr size_t page_round_up(size_t n) {
  return (n + kPageSize - 1) & ~(kPageSize - 1);
}

// Offset of the image (AT_SYSINFO_EHDR) from the start of an injection.
inline constexpr size_t kImageOffset = kVvarSize;

// Bytes to map for the image (the whole file, rounded up to pages).
inline size_t image_map_size() {
  return page_round_up(image().size());
}

// Bytes of one injection: vvar pages then image pages.
inline size_t injection_size() {
  return kImageOffset + image_map_size();
}

}  // namespace vdso
