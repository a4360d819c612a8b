// Integer ALU results and the RFLAGS bits they set, for the read instructions we emulate.
#pragma once

#include <cstdint>

namespace vsyscall {

enum class AluOp { kAdd, kAdc, kSub, kSbb, kAnd, kOr, kXor };

struct AluResult {
  uint64_t value = 0;  // truncated to the operand width
  uint64_t flags = 0;  // only the kArithFlags bits: CF PF AF ZF SF OF
};

// Mask of an operand `width` bytes wide (1, 2, 4 or 8).
constexpr uint64_t width_mask(unsigned width) {
  return width >= 8 ? ~0ULL : (1ULL << (width * 8)) - 1;
}

// `a op b` (plus carry_in for adc/sbb) on `width`-byte operands. Logic ops clear CF and OF
// as the SDM says, and clear AF, which the SDM leaves undefined: that is what Intel CPUs do
// (measured on this host, and what the unit test's native cross-check asserts).
AluResult alu(AluOp op, unsigned width, uint64_t a, uint64_t b, bool carry_in = false);

// Sign-extends the low `width` bytes of v to 64 bits.
constexpr uint64_t sign_extend(uint64_t v, unsigned width) {
  if (width >= 8) return v;
  const uint64_t sign = 1ULL << (width * 8 - 1);
  v &= width_mask(width);
  return (v ^ sign) - sign;
}

}  // namespace vsyscall
