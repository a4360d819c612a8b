// The checks every clock probe's report goes through (C, C++, Go, 32-bit): which vDSO the
// program holds, its clocks against raw-syscall brackets, clock_getres and getcpu against the
// kernel's, and which calls keep working with the time syscalls denied.
#pragma once

#include <string>
#include <vector>

#include "e2e_support.h"

namespace e2e {

// Which vDSO a program should end up with.
enum class Expect {
  kInjected,  // vdsorun's memfd image (and vvar)
  kKernel,    // the kernel's [vdso]
  kNone,      // AT_SYSINFO_EHDR removed: no vDSO
};
Expect expect_for(Vdso v);

// The functions vdsorun's vDSO exports (and the kernel's x86-64 vDSO too).
extern const std::vector<std::string> kCVdsoSymbols;

// `auxv` (when the probe prints one), `vdso_symbol` for each of `symbols`, `mappings`, and the
// fast path having come when the image is vdsorun's.
void check_vdso_identity(const std::vector<Record>& records, Expect expect,
                         const std::vector<std::string>& symbols);

// Every process in vdsorun's report carries a vdso_mapping note starting with `prefix`.
void check_report_notes(const Outcome& run, const std::string& prefix);
std::string report_prefix(Vdso v);

// Hres clocks within kFineToleranceNs of their bracket; coarse clocks and time() exactly inside
// it (they are the kernel's own whatever vDSO the program has).
void check_brackets(const std::vector<Record>& records);

// clock_getres equal to the kernel's; getcpu on every CPU the probe pinned itself to.
void check_getres_and_getcpu(const std::vector<Record>& records);

// With a vDSO every call in `served` still works after seccomp denied the time syscalls;
// without one, `witness` does not.
void check_without_syscalls(const std::vector<Record>& records, Expect expect,
                            const std::vector<std::string>& served, const std::string& witness);

}  // namespace e2e
