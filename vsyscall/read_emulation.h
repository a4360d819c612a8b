// Emulates one instruction that read the vsyscall page, as an `emulate`/`native` kernel
// would have let it: the load comes from page_image(), every other effect is carried out
// on the given CPU state and memory (DESIGN.md 3.3).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "vsyscall/cpu_state.h"
#include "vsyscall/memory.h"

namespace vsyscall {

struct ReadEmulation {
  enum class Status {
    kDone,         // state updated, rip advanced past the instruction
    kUnsupported,  // instruction not emulated: deliver the kernel's xonly answer (SIGSEGV)
    kFault,        // emulation itself hit an unreadable/unwritable address: SIGSEGV at fault_addr
  };
  Status status = Status::kUnsupported;
  // The instruction as text ("vmovdqu ymm1, ymmword ptr [rsi]"), for the report; empty if
  // the bytes did not decode.
  std::string instruction;
  // Why it was not emulated (kUnsupported) — shown in the report and the log.
  std::string reason;
  // kFault: the address that could not be accessed.
  uint64_t fault_addr = 0;
  // Whether vector registers were changed (the engine writes them back only then).
  bool vector_changed = false;
};

// Emulates the instruction whose bytes start at `code` (up to 15 bytes, read at state.gpr.rip).
// Reads inside [kPageBase, kPageEnd) come from page_image(); reads elsewhere (and all writes)
// go through `mem`. A read past kPageEnd faults like on the kernel (the next page is unmapped).
ReadEmulation emulate_read(std::span<const uint8_t> code, CpuState& state, Memory& mem);

}  // namespace vsyscall
