// The host kernel's vDSO as the injected one calls it (vdso/host_table.h): where its functions
// lie relative to its ELF header. Every 64-bit process of the host gets the same image, so the
// offsets are read once from vdsorun's own copy; each process then only adds its own base.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vdso/host_table.h"
#include "vdso/image_check.h"

namespace emulator {

class HostVdso {
 public:
  // vdsorun's own vDSO (getauxval(AT_SYSINFO_EHDR)); none if the kernel gave it none.
  static HostVdso of_this_process();
  // The vDSO image `image` (its ELF file as mapped); none, with *why, if it cannot be parsed.
  static HostVdso from_image(std::span<const uint8_t> image, std::string* why);

  // True if at least one function of the table was found.
  bool present() const;
  // The table for one process: its kernel vDSO starts at `host_base` (the original
  // AT_SYSINFO_EHDR, 0 if it had none) and the injected image at `image_base`. A function the
  // kernel's vDSO lacks is routed to the image's syscall stub; with `transformed`, time() and
  // the coarse clocks are routed through the image's transforming paths.
  vdso::HostTable table_for(uint64_t host_base, uint64_t image_base, const vdso::ImageLinks& links,
                            bool transformed) const;

  // The bytes of `image` from `offset` on, as linked for one process: the table above and,
  // when time() is the kernel's own, the st_value of `time` and `__vdso_time` pointed at the
  // kernel's function (modulo 2^64, as every loader adds the load base). One write puts them
  // into the process's private copy.
  struct Linked {
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
  };
  Linked link(std::span<const uint8_t> image, uint64_t host_base, uint64_t image_base,
              const vdso::ImageLinks& links, bool transformed) const;

  // For a tree with virtual clocks that keeps the kernel's vDSO (--vdso=host): code that makes
  // the kernel's clock_gettime, gettimeofday and time plain syscalls (`mov $nr,%eax; syscall;
  // ret`), which vdsorun's filter stops and answers in virtual time. Address and bytes of each
  // function found, for a vDSO at `host_base`; written into a process's private copy.
  struct Stub {
    uint64_t addr = 0;
    std::array<uint8_t, 8> bytes{};
  };
  std::vector<Stub> syscall_stubs(uint64_t host_base) const;

 private:
  std::array<std::optional<uint64_t>, vdso::kKernelFunctions> offsets_{};
};

}  // namespace emulator
