// Classifies one decoded x86-64 instruction by what it does with the vsyscall page: the
// building blocks of a legacy call site (shared by the static scanner and call-site patching).
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <string_view>

#include "vsyscall/x86_decoder.h"

namespace vsyscall {

enum class FormKind : uint8_t {
  kNone,           // nothing to do with the page, nor a piece of a call sequence
  kPageImmediate,  // mov $page_addr,%reg (sign-extended imm32 or movabs imm64), lea page_addr
  kDirectCall,     // call page_addr (rel32)
  kDirectJump,     // jmp page_addr, jcc page_addr (rel8/rel32)
  kRegisterCall,   // call *%reg
  kRegisterJump,   // jmp *%reg
  kMemoryCall,     // call *mem, mem at a known address (RIP-relative or absolute), not the page
  kMemoryJump,     // jmp *mem, likewise
  kDataLoad,       // mov mem64,%reg64 from a known address: loads a data word into reg
  kPageRead,       // a memory operand whose absolute address is in the page
};

struct InsnForm {
  FormKind kind = FormKind::kNone;
  // kPageImmediate, kDirect*, kPageRead: the page address; kMemory*, kDataLoad: the address of
  // the data word read.
  uint64_t address = 0;
  // kPageImmediate, kDataLoad: the register written; kRegister*: the register called through.
  x86_reg reg = X86_REG_INVALID;
  // kPageImmediate: the 10-byte movabs form (REX.W B8+r imm64).
  bool imm64 = false;

  bool operator==(const InsnForm&) const = default;
};

std::string_view form_kind_name(FormKind k);

// `id`, `address`, `size` and `x86` as Capstone (detail on) reports them.
InsnForm classify_insn(unsigned id, uint64_t address, uint16_t size, const cs_x86& x86);
inline InsnForm classify_insn(const cs_insn& insn) {
  return classify_insn(insn.id, insn.address, insn.size, insn.detail->x86);
}
inline InsnForm classify_insn(const DecodedInsn& insn) {
  return classify_insn(insn.id, insn.address, insn.size, insn.x86);
}

// True when `insn` (Capstone detail on) writes `reg` or any of its sub-registers, or may leave
// the straight line (so a value loaded before it can no longer be followed to a call).
bool ends_register_tracking(const cs_insn& insn, x86_reg reg);

// The full 64-bit register that contains `reg` (eax -> rax, r8d -> r8), or `reg` itself.
x86_reg full_register(x86_reg reg);

}  // namespace vsyscall
