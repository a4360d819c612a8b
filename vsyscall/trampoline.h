// The trampoline page that patched call sites call instead of the legacy page (DESIGN.md 2,
// "a hot call site is patched so that it stops no more"). Pure: the bytes of the page and of
// each site's stub, and how to undo a call that faulted inside it. The code itself is
// vsyscall/trampoline_template.S; the patcher in emulator/ maps and fills the page.
//
// A process's trampoline is one page of code at an address below 2 GiB (so that the 7-byte
// `mov $imm32,%reg` and `call rel32` forms reach it) followed by the shared counter pages:
//   [0, 0x40)            three slots: the vDSO's gettimeofday, time and getcpu
//   [0x40, kStubsOffset) the emulated and native routines
//   [kStubsOffset, 4096) one 16-byte stub per patched site: count, then enter a routine
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vsyscall/cpu_state.h"
#include "vsyscall/page.h"

namespace vsyscall {

inline constexpr uint64_t kTrampolineCodeSize = 0x1000;
inline constexpr uint64_t kTrampolineStubsOffset = 0x400;
inline constexpr uint64_t kTrampolineStubSize = 16;
inline constexpr size_t kTrampolineStubCapacity =
    (kTrampolineCodeSize - kTrampolineStubsOffset) / kTrampolineStubSize;

// What a patched site's calls do: the kernel's emulation (xonly, emulate) or the page's own
// code (native).
enum class TrampolineFlavor { kEmulated, kNative };

// The addresses the slots hold, in the program.
struct VdsoFunctions {
  uint64_t gettimeofday = 0;
  uint64_t time = 0;
  uint64_t getcpu = 0;
};

// The code page, slots filled, stub area int3.
std::vector<uint8_t> trampoline_page(const VdsoFunctions& fns);

// Offset of stub `index` in the page.
constexpr uint64_t trampoline_stub_offset(size_t index) {
  return kTrampolineStubsOffset + index * kTrampolineStubSize;
}

// The bytes of stub `index` of a page at `page`: increments the 8-byte counter at `counter`
// (within +-2 GiB), then enters `entry`'s routine with the caller's flags intact. The
// increment is `lock incq` when `atomic`, else `nop; incq` of the same length: a locked
// increment costs a quarter of a patched call, and only counters that another thread or
// process can increment at the same time need it. The one byte that differs is at
// kTrampolineStubLockOffset, so a stub becomes atomic by rewriting that byte alone.
std::array<uint8_t, kTrampolineStubSize> trampoline_stub(uint64_t page, size_t index, Entry entry,
                                                         TrampolineFlavor flavor, uint64_t counter,
                                                         bool atomic);
inline constexpr uint64_t kTrampolineStubLockOffset = 1;
inline constexpr uint8_t kLockPrefix = 0xf0;

// Words of the emulated routines' frame at a copy, from rsp up to the return address
// (trampoline_template.S).
inline constexpr size_t kTrampolineFrameWords = 15;

// If `offset` (rip - page) is one of the copies of an emulated routine that can fault on the
// program's pointer: the entry whose call it is.
std::optional<Entry> trampoline_copy_entry(uint64_t offset);

// Offsets in the page of `xor %ecx,%ecx; mov (%rcx),%ecx` and of the `div %ecx` after it: run
// before a rewound call goes the slow way, the read of address 0 (a SIGSEGV the supervisor
// steps over) leaves the thread's cr2 at 0 and the divide error (a SIGFPE) its trap number and
// error code, so that the kernel's signal for the call does not carry those of the fault in
// the trampoline.
uint64_t trampoline_reset_trap_offset();
uint64_t trampoline_reset_divide_offset();

// The registers of the call as the program made it, from the frame read at rsp: rip at the
// entry, rsp at the return address. `stub` is the address the site called; a caller that
// loaded it into rax (`mov $stub,%rax; call *%rax`) had the entry address there before the
// patch, and gets it back.
Gpr trampoline_rewind(const Gpr& at_fault, std::span<const uint64_t, kTrampolineFrameWords> frame,
                      Entry entry, uint64_t stub);

}  // namespace vsyscall
