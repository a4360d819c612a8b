// Placeholder until read emulation lands: every read gets the kernel's xonly answer.
#include "vsyscall/read_emulation.h"

namespace vsyscall {

ReadEmulation emulate_read(std::span<const uint8_t>, CpuState&, Memory&) {
  ReadEmulation r;
  r.status = ReadEmulation::Status::kUnsupported;
  r.reason = "read emulation not built yet";
  return r;
}

}  // namespace vsyscall
