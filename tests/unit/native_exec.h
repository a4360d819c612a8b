// Test helper: runs one x86-64 instruction natively with every general register, RFLAGS and
// ymm0-15 loaded from a struct, and stores them back afterwards. The read-emulation tests run
// the same bytes natively on a buffer holding the page image and compare with the emulator.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace vsyscall::testing {

// Layout shared with the assembly in native_exec.cc: do not reorder.
struct NativeRegs {
  // Encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15.
  std::array<uint64_t, 16> gpr{};
  uint64_t rflags = 0x202;
  std::array<std::array<uint8_t, 32>, 16> ymm{};
};

// Whether this CPU can run the helper (it saves and restores ymm registers: AVX).
bool native_exec_available();

// Executes `code` (exactly one instruction, no rip-relative operand, no control transfer)
// with `regs`, then writes the resulting state back into `regs`. rsp must point into a
// writable stack the instruction may use.
void native_exec(std::span<const uint8_t> code, NativeRegs& regs);

}  // namespace vsyscall::testing
