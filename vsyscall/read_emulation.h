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
    kWritesPage,   // the instruction writes to the page: SIGSEGV in every mode (the page is
                   // read-only even where it is readable); `reason` says which operand
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
  // Bit N set: xmmN/ymmN was written by a VEX-encoded instruction, which zeroes every bit of
  // the register above what it writes -- on AVX-512 hardware that includes bits 511:256 of
  // zmmN. With CpuState::have_avx512 those bits are already cleared in state.avx512; without
  // it the engine must clear them itself when it writes the registers back.
  uint16_t zmm_upper_zeroed = 0;
};

// Emulates the instruction whose bytes start at `code` (up to 15 bytes, read at state.gpr.rip).
// Reads inside [kPageBase, kPageEnd) come from page_image(); reads elsewhere (and all writes)
// go through `mem`. A read past kPageEnd faults like on the kernel (the next page is unmapped);
// so does any access to a non-user address outside the page.
//
// Only kDone changes `state`. kUnsupported, kWritesPage and kFault leave every register as it
// was -- also for a rep string instruction, which on the CPU would fault with rsi/rdi/rcx
// showing its progress. Memory is written only after every read succeeded, one Memory::write
// per 4 KiB piece in the order the CPU stores; if one of those fails (kFault at the lowest
// address of that piece) the pieces before it stay written, as they would on the CPU.
// `instruction` is set whenever the bytes decode, whatever the status.
//
// Supported (all with the page as a memory source; see read_emulation.cc for the list):
// mov/movabs/movzx/movsx/movsxd/movbe loads; cmp/test (page on either side, register or
// immediate); add/adc/sub/sbb/and/or/xor into a register; push; lods/movs/cmps/scas with
// rep/repe/repne and DF; SSE/AVX loads (movdqu/movdqa/movups/movaps/movupd/movapd/lddqu/
// movntdqa, movd/movq/movss/movsd, movlps/movhps/movlpd/movhpd, their VEX forms, xmm and ymm);
// packed compares and logic with a memory operand (pcmpeqb/w/d/q, pminub, pmaxub, pand, pandn,
// por, pxor, psubb, ptest and their VEX forms); with CpuState::have_avx512, EVEX loads
// (vmovdqu8/16/32/64, vmovdqa32/64, vmovups/aps/upd/apd) into xmm/ymm/zmm0-31 with opmask
// merging or zeroing, where masked-off bytes are not read and cannot fault.
ReadEmulation emulate_read(std::span<const uint8_t> code, CpuState& state, Memory& mem);

}  // namespace vsyscall
