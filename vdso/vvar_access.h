// How vDSO code finds the vvar: a hidden symbol that vdso.lds places kVvarPages pages below the
// image, reached RIP-relative, so the image needs no relocation wherever it is mapped.
#pragma once

#include "vdso/vvar.h"

extern "C" const vdso::Vvar vdso_vvar_page __attribute__((visibility("hidden")));

namespace vdso {

inline const Vvar* vvar() {
  return &vdso_vvar_page;
}

}  // namespace vdso
