// Maps Capstone register ids onto CpuState: general registers with x86 partial-write rules,
// and the sixteen xmm/ymm registers.
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <optional>

#include "vsyscall/cpu_state.h"

namespace vsyscall {

// Where a general register (or a part of one) lives in Gpr.
struct GprSlot {
  decltype(Gpr::rax) Gpr::*field = nullptr;
  unsigned width = 8;  // bytes: 1, 2, 4 or 8
  unsigned shift = 0;  // 8 for ah/bh/ch/dh
};

// The slot of rax..r15, eax..r15d, ax..r15w, al..r15b, spl/bpl/sil/dil, ah/bh/ch/dh;
// nullopt for anything else (segment, control, vector registers, rip).
std::optional<GprSlot> gpr_slot(unsigned reg);

uint64_t read_gpr(const Gpr& g, const GprSlot& s);

// Writes `value` (its low s.width bytes) the way the CPU does: a 32-bit write zero-extends
// to 64 bits, 8- and 16-bit writes keep the other bits.
void write_gpr(Gpr& g, const GprSlot& s, uint64_t value);

// A vector register operand: index 0..15 and width 16 (xmm) or 32 (ymm). xmm16+, ymm16+,
// zmm, mmx and mask registers are outside CpuState: nullopt.
struct VecSlot {
  unsigned index = 0;
  unsigned width = 16;
};
std::optional<VecSlot> vec_slot(unsigned reg);

// Any xmm/ymm/zmm register 0..31 (EVEX can name them all): width 16, 32 or 64.
std::optional<VecSlot> evex_vec_slot(unsigned reg);

// k0..k7.
std::optional<unsigned> mask_index(unsigned reg);

// The Capstone id of general register `number` (0..15, encoding order) at `width` 8 or 4.
unsigned gpr_reg_id(unsigned number, unsigned width);

}  // namespace vsyscall
