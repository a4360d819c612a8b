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

// The AVX-512 parts of the register file, laid out as the XSAVE components the engine reads
// with PTRACE_GETREGSET(NT_X86_XSTATE): opmask (k0-7), ZMM_Hi256 (bits 511:256 of zmm0-15)
// and Hi16_ZMM (zmm16-31).
struct Avx512Regs {
  std::array<uint64_t, 8> k{};
  std::array<std::array<uint8_t, 32>, 16> zmm_hi256{};
  std::array<std::array<uint8_t, 64>, 16> hi16_zmm{};
};

struct CpuState {
  Gpr gpr{};
  VectorRegs vec{};
  Avx512Regs avx512{};
  // Filled by the engine: whether the ymm upper halves are valid/writable (AVX present).
  bool have_avx = false;
  // Filled by the engine: whether `avx512` holds the program's AVX-512 state. Without it EVEX
  // instructions are not emulated, and VEX writes report the zmm bits they clear in
  // ReadEmulation::zmm_upper_zeroed instead of clearing avx512.zmm_hi256.
  bool have_avx512 = false;
};

// RFLAGS bits.
inline constexpr uint64_t kFlagCF = 1ULL << 0;
inline constexpr uint64_t kFlagPF = 1ULL << 2;
inline constexpr uint64_t kFlagAF = 1ULL << 4;
inline constexpr uint64_t kFlagZF = 1ULL << 6;
inline constexpr uint64_t kFlagSF = 1ULL << 7;
inline constexpr uint64_t kFlagTF = 1ULL << 8;
inline constexpr uint64_t kFlagDF = 1ULL << 10;
inline constexpr uint64_t kFlagOF = 1ULL << 11;
inline constexpr uint64_t kFlagRF = 1ULL << 16;
inline constexpr uint64_t kArithFlags = kFlagCF | kFlagPF | kFlagAF | kFlagZF | kFlagSF | kFlagOF;

}  // namespace vsyscall
