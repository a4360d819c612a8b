// Test helper: runs one x86-64 instruction natively with every general register, RFLAGS and
// the vector registers loaded from a struct, and stores them back afterwards. The
// read-emulation tests run the same bytes natively on a buffer holding the page image and
// compare with the emulator.
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
  // zmm0-31; without AVX-512 only bytes 0..31 of zmm0-15 (ymm0-15) are loaded and stored.
  std::array<std::array<uint8_t, 64>, 32> zmm{};
  std::array<uint64_t, 8> k{};  // AVX-512 only
};

// Whether this CPU and kernel can run the helper: AVX2 for the ymm variant, AVX-512
// F/BW/VL with the opmask and zmm state enabled for the AVX-512 variant.
bool native_exec_available();
bool native_exec_avx512_available();

// Executes `code` (exactly one instruction, no rip-relative operand, no control transfer)
// with `regs`, then writes the resulting state back into `regs`. rsp must point into a
// writable stack the instruction may use.
void native_exec(std::span<const uint8_t> code, NativeRegs& regs, bool avx512);

}  // namespace vsyscall::testing
