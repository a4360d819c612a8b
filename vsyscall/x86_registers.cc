// The Capstone register id -> user_regs_struct field table.
#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

using Field = decltype(Gpr::rax) Gpr::*;

// The sixteen 64-bit registers in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15).
constexpr Field kFields[16] = {&Gpr::rax, &Gpr::rcx, &Gpr::rdx, &Gpr::rbx, &Gpr::rsp, &Gpr::rbp,
                               &Gpr::rsi, &Gpr::rdi, &Gpr::r8,  &Gpr::r9,  &Gpr::r10, &Gpr::r11,
                               &Gpr::r12, &Gpr::r13, &Gpr::r14, &Gpr::r15};

struct Names {
  unsigned q, d, w, b;
};
constexpr Names kNames[16] = {
    {X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL},
    {X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL},
    {X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL},
    {X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL},
    {X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL},
    {X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL},
    {X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL},
    {X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL},
    {X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B},
    {X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B},
    {X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B},
    {X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B},
    {X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B},
    {X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B},
    {X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B},
    {X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B},
};

}  // namespace

std::optional<GprSlot> gpr_slot(unsigned reg) {
  switch (reg) {
    case X86_REG_AH:
      return GprSlot{&Gpr::rax, 1, 8};
    case X86_REG_CH:
      return GprSlot{&Gpr::rcx, 1, 8};
    case X86_REG_DH:
      return GprSlot{&Gpr::rdx, 1, 8};
    case X86_REG_BH:
      return GprSlot{&Gpr::rbx, 1, 8};
    default:
      break;
  }
  for (unsigned i = 0; i < 16; ++i) {
    if (reg == kNames[i].q) return GprSlot{kFields[i], 8, 0};
    if (reg == kNames[i].d) return GprSlot{kFields[i], 4, 0};
    if (reg == kNames[i].w) return GprSlot{kFields[i], 2, 0};
    if (reg == kNames[i].b) return GprSlot{kFields[i], 1, 0};
  }
  return std::nullopt;
}

uint64_t read_gpr(const Gpr& g, const GprSlot& s) {
  const uint64_t full = g.*s.field;
  if (s.width == 8) return full;
  return (full >> s.shift) & ((1ULL << (s.width * 8)) - 1);
}

void write_gpr(Gpr& g, const GprSlot& s, uint64_t value) {
  auto& full = g.*s.field;
  switch (s.width) {
    case 8:
      full = value;
      return;
    case 4:
      full = value & 0xffffffffULL;
      return;  // zero-extends, like the CPU
    default: {
      const uint64_t mask = ((1ULL << (s.width * 8)) - 1) << s.shift;
      full = (full & ~mask) | ((value << s.shift) & mask);
      return;
    }
  }
}

std::optional<VecSlot> vec_slot(unsigned reg) {
  if (reg >= X86_REG_XMM0 && reg <= X86_REG_XMM15) return VecSlot{reg - X86_REG_XMM0, 16};
  if (reg >= X86_REG_YMM0 && reg <= X86_REG_YMM15) return VecSlot{reg - X86_REG_YMM0, 32};
  return std::nullopt;
}

std::optional<VecSlot> evex_vec_slot(unsigned reg) {
  if (reg >= X86_REG_XMM0 && reg <= X86_REG_XMM31) return VecSlot{reg - X86_REG_XMM0, 16};
  if (reg >= X86_REG_YMM0 && reg <= X86_REG_YMM31) return VecSlot{reg - X86_REG_YMM0, 32};
  if (reg >= X86_REG_ZMM0 && reg <= X86_REG_ZMM31) return VecSlot{reg - X86_REG_ZMM0, 64};
  return std::nullopt;
}

unsigned gpr_reg_id(unsigned number, unsigned width) {
  return width == 4 ? kNames[number & 15].d : kNames[number & 15].q;
}

std::optional<unsigned> mask_index(unsigned reg) {
  if (reg >= X86_REG_K0 && reg <= X86_REG_K7) return reg - X86_REG_K0;
  return std::nullopt;
}

}  // namespace vsyscall
