// The register state vsyscall/ reasons about: plain values, filled and applied by the engine.
#pragma once

#include <sys/user.h>

#include <array>
#include <cstdint>

namespace vsyscall {

// General registers in the kernel's user_regs_struct layout (what PTRACE_GETREGS returns).
using Gpr = user_regs_struct;

// Vector registers: 16 x 256 bits; bytes 0..15 are xmmN, 16..31 the upper half of ymmN.
struct VectorRegs {
  std::array<std::array<uint8_t, 32>, 16> ymm{};
};

struct CpuState {
  Gpr gpr{};
  VectorRegs vec{};
  // Filled by the engine: whether the ymm upper halves are valid/writable (AVX present).
  bool have_avx = false;
};

// RFLAGS bits.
inline constexpr uint64_t kFlagCF = 1ULL << 0;
inline constexpr uint64_t kFlagPF = 1ULL << 2;
inline constexpr uint64_t kFlagAF = 1ULL << 4;
inline constexpr uint64_t kFlagZF = 1ULL << 6;
inline constexpr uint64_t kFlagSF = 1ULL << 7;
inline constexpr uint64_t kFlagDF = 1ULL << 10;
inline constexpr uint64_t kFlagOF = 1ULL << 11;
inline constexpr uint64_t kFlagRF = 1ULL << 16;
inline constexpr uint64_t kArithFlags = kFlagCF | kFlagPF | kFlagAF | kFlagZF | kFlagSF | kFlagOF;

}  // namespace vsyscall
