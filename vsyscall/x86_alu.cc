// Flag arithmetic from the carry/borrow vectors, so one formula serves every operand width.
#include "vsyscall/x86_alu.h"

#include "vsyscall/cpu_state.h"

namespace vsyscall {
namespace {

uint64_t result_flags(unsigned width, uint64_t r) {
  uint64_t f = 0;
  const uint64_t sign = 1ULL << (width * 8 - 1);
  if ((r & width_mask(width)) == 0) f |= kFlagZF;
  if (r & sign) f |= kFlagSF;
  if (__builtin_parity(static_cast<unsigned>(r & 0xff)) == 0) f |= kFlagPF;
  return f;
}

}  // namespace

AluResult alu(AluOp op, unsigned width, uint64_t a, uint64_t b, bool carry_in) {
  const uint64_t mask = width_mask(width);
  const uint64_t sign = 1ULL << (width * 8 - 1);
  a &= mask;
  b &= mask;
  const uint64_t c = carry_in ? 1 : 0;
  AluResult out;
  switch (op) {
    case AluOp::kAdd:
    case AluOp::kAdc: {
      const uint64_t cin = op == AluOp::kAdc ? c : 0;
      const uint64_t r = (a + b + cin) & mask;
      // Bit i of `carries` is the carry out of bit i.
      const uint64_t carries = (a & b) | ((a | b) & ~r);
      out.value = r;
      out.flags = result_flags(width, r);
      if (carries & sign) out.flags |= kFlagCF;
      if ((a ^ r) & (b ^ r) & sign) out.flags |= kFlagOF;
      if ((a ^ b ^ r) & 0x10) out.flags |= kFlagAF;
      return out;
    }
    case AluOp::kSub:
    case AluOp::kSbb: {
      const uint64_t bin = op == AluOp::kSbb ? c : 0;
      const uint64_t r = (a - b - bin) & mask;
      // Bit i of `borrows` is the borrow out of bit i.
      const uint64_t borrows = (~a & b) | (~(a ^ b) & r);
      out.value = r;
      out.flags = result_flags(width, r);
      if (borrows & sign) out.flags |= kFlagCF;
      if ((a ^ b) & (a ^ r) & sign) out.flags |= kFlagOF;
      if ((a ^ b ^ r) & 0x10) out.flags |= kFlagAF;
      return out;
    }
    case AluOp::kAnd:
      out.value = a & b;
      break;
    case AluOp::kOr:
      out.value = a | b;
      break;
    case AluOp::kXor:
      out.value = a ^ b;
      break;
  }
  out.flags = result_flags(width, out.value);
  return out;
}

}  // namespace vsyscall
