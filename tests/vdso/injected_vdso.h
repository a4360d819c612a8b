// The injected vDSO loaded into this process exactly as the injector maps it into a tracee
// (vvar object read-only and shared, image private and executable right above it), with a
// running Timekeeper: the tests' and benchmarks' stand-in for the exec-time injection. Also
// resolves the five functions of any mapped vDSO (ours or the host kernel's).
#pragma once

#include <sys/time.h>
#include <time.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "emulator/clock/timekeeper.h"
#include "emulator/clock/vvar_object.h"
#include "vdso/host_table.h"
#include "vdso/vvar.h"

namespace vdso_test {

struct VdsoFunctions {
  int (*clock_gettime)(clockid_t, timespec*) = nullptr;
  int (*gettimeofday)(timeval*, struct timezone*) = nullptr;
  time_t (*time)(time_t*) = nullptr;
  long (*getcpu)(unsigned*, unsigned*, void*) = nullptr;
  int (*clock_getres)(clockid_t, timespec*) = nullptr;
};

// The __vdso_* functions of the vDSO whose ELF header is mapped at `ehdr`.
std::optional<VdsoFunctions> resolve(const void* ehdr, std::string* why);
// The host kernel's vDSO (getauxval(AT_SYSINFO_EHDR)); nullopt if there is none.
std::optional<VdsoFunctions> host_vdso();

// Why this machine does not compute clocks in the vvar (clock_choice.h: any clocksource but
// tsc), or nullopt. Tests of the vvar's clocks against the kernel's are meaningful only there.
std::optional<std::string> tsc_path_unavailable();
#define VDSO_SKIP_UNLESS_TSC_PATH()                                            \
  do {                                                                         \
    if (const auto why_ = ::vdso_test::tsc_path_unavailable())                 \
      GTEST_SKIP() << "the vvar computes no clock on this machine: " << *why_; \
  } while (0)

class InjectedVdso {
 public:
  // Maps, links the image's host table as the injector would for this process (then lets
  // `adjust` change it: tests substitute a fake kernel) and starts; throws std::runtime_error
  // if anything fails.
  explicit InjectedVdso(emulator::TimekeeperOptions options = {},
                        std::function<void(vdso::HostTable&)> adjust = {});
  ~InjectedVdso();
  InjectedVdso(const InjectedVdso&) = delete;
  InjectedVdso& operator=(const InjectedVdso&) = delete;

  const VdsoFunctions& fn() const { return fn_; }
  emulator::Timekeeper& timekeeper() { return *timekeeper_; }
  // The supervisor's writable view of the vvar, and the tracee-side read-only mapping.
  vdso::Vvar* writable_page() const { return vvar_.page(); }
  const vdso::Vvar* mapped_page() const { return reinterpret_cast<const vdso::Vvar*>(base_); }
  const void* ehdr() const;

 private:
  emulator::VvarObject vvar_;
  emulator::ImageObject image_;
  uint8_t* base_ = nullptr;  // X: [vvar][image]
  size_t size_ = 0;
  VdsoFunctions fn_;
  std::unique_ptr<emulator::Timekeeper> timekeeper_;  // last: stops before the rest goes
};

}  // namespace vdso_test
