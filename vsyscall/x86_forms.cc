// One instruction's relation to the vsyscall page, from Capstone's operand details.
#include "vsyscall/x86_forms.h"

#include "vsyscall/page.h"

namespace vsyscall {
namespace {

// The absolute address a memory operand names, when it names one without a register: no
// base or index (disp32 sign-extended, or a moffs64), or RIP-relative. fs/gs-relative
// operands have no address we can know.
bool absolute_address(const x86_op_mem& m, uint64_t next_rip, uint64_t* out) {
  if (m.segment == X86_REG_FS || m.segment == X86_REG_GS) return false;
  if (m.index != X86_REG_INVALID) return false;
  if (m.base == X86_REG_INVALID) {
    *out = static_cast<uint64_t>(m.disp);
    return true;
  }
  if (m.base == X86_REG_RIP) {
    *out = next_rip + static_cast<uint64_t>(m.disp);
    return true;
  }
  return false;
}

bool is_jump(unsigned id) {
  switch (id) {
    case X86_INS_JMP:
    case X86_INS_JAE:
    case X86_INS_JA:
    case X86_INS_JBE:
    case X86_INS_JB:
    case X86_INS_JE:
    case X86_INS_JGE:
    case X86_INS_JG:
    case X86_INS_JLE:
    case X86_INS_JL:
    case X86_INS_JNE:
    case X86_INS_JNO:
    case X86_INS_JNP:
    case X86_INS_JNS:
    case X86_INS_JO:
    case X86_INS_JP:
    case X86_INS_JS:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view form_kind_name(FormKind k) {
  switch (k) {
    case FormKind::kNone:
      return "none";
    case FormKind::kPageImmediate:
      return "page-immediate";
    case FormKind::kDirectCall:
      return "direct-call";
    case FormKind::kDirectJump:
      return "direct-jump";
    case FormKind::kRegisterCall:
      return "register-call";
    case FormKind::kRegisterJump:
      return "register-jump";
    case FormKind::kMemoryCall:
      return "memory-call";
    case FormKind::kMemoryJump:
      return "memory-jump";
    case FormKind::kDataLoad:
      return "data-load";
    case FormKind::kPageRead:
      return "page-read";
  }
  return "?";
}

x86_reg full_register(x86_reg r) {
  switch (r) {
#define VDSORUN_GPR(q, d, w, b) \
  case X86_REG_##d:             \
  case X86_REG_##w:             \
  case X86_REG_##b:             \
    return X86_REG_##q;
    VDSORUN_GPR(RAX, EAX, AX, AL)
    VDSORUN_GPR(RBX, EBX, BX, BL)
    VDSORUN_GPR(RCX, ECX, CX, CL)
    VDSORUN_GPR(RDX, EDX, DX, DL)
    VDSORUN_GPR(RSI, ESI, SI, SIL)
    VDSORUN_GPR(RDI, EDI, DI, DIL)
    VDSORUN_GPR(RBP, EBP, BP, BPL)
    VDSORUN_GPR(RSP, ESP, SP, SPL)
    VDSORUN_GPR(R8, R8D, R8W, R8B)
    VDSORUN_GPR(R9, R9D, R9W, R9B)
    VDSORUN_GPR(R10, R10D, R10W, R10B)
    VDSORUN_GPR(R11, R11D, R11W, R11B)
    VDSORUN_GPR(R12, R12D, R12W, R12B)
    VDSORUN_GPR(R13, R13D, R13W, R13B)
    VDSORUN_GPR(R14, R14D, R14W, R14B)
    VDSORUN_GPR(R15, R15D, R15W, R15B)
#undef VDSORUN_GPR
    case X86_REG_AH:
      return X86_REG_RAX;
    case X86_REG_BH:
      return X86_REG_RBX;
    case X86_REG_CH:
      return X86_REG_RCX;
    case X86_REG_DH:
      return X86_REG_RDX;
    default:
      return r;
  }
}

InsnForm classify_insn(unsigned id, uint64_t address, uint16_t size, const cs_x86& x86) {
  InsnForm f;
  const uint64_t next_rip = address + size;
  const auto ops = std::span<const cs_x86_op>(x86.operands, x86.op_count);

  // Any memory operand at an absolute page address reads (or writes) the page, whatever the
  // instruction: mov, cmp, movdqu, call *0xffffffffff600000 ... lea only computes it.
  for (const cs_x86_op& op : ops) {
    uint64_t a = 0;
    if (op.type == X86_OP_MEM && absolute_address(op.mem, next_rip, &a) && in_page(a)) {
      if (id == X86_INS_LEA && ops.size() == 2 && ops[0].type == X86_OP_REG) {
        f.kind = FormKind::kPageImmediate;
        f.reg = full_register(ops[0].reg);
      } else {
        f.kind = FormKind::kPageRead;
      }
      f.address = a;
      return f;
    }
  }

  if (id == X86_INS_MOV || id == X86_INS_MOVABS) {
    // mov $imm,%r64: C7 /0 with a sign-extended imm32, or B8+r with an imm64 (movabs).
    // A 32-bit `mov $0xff600000,%eax` zero-extends and is not the page.
    if (ops.size() == 2 && ops[0].type == X86_OP_REG && ops[0].size == 8 &&
        ops[1].type == X86_OP_IMM && in_page(static_cast<uint64_t>(ops[1].imm))) {
      f.kind = FormKind::kPageImmediate;
      f.address = static_cast<uint64_t>(ops[1].imm);
      f.reg = full_register(ops[0].reg);
      f.imm64 = x86.opcode[0] >= 0xb8 && x86.opcode[0] <= 0xbf;
      return f;
    }
    uint64_t a = 0;
    if (ops.size() == 2 && ops[0].type == X86_OP_REG && ops[0].size == 8 &&
        ops[1].type == X86_OP_MEM && ops[1].size == 8 &&
        absolute_address(ops[1].mem, next_rip, &a)) {
      f.kind = FormKind::kDataLoad;
      f.address = a;
      f.reg = full_register(ops[0].reg);
      return f;
    }
    return f;
  }

  const bool call = id == X86_INS_CALL;
  if ((call || is_jump(id)) && ops.size() == 1) {
    const cs_x86_op& op = ops[0];
    if (op.type == X86_OP_IMM) {
      const uint64_t target = static_cast<uint64_t>(op.imm);
      if (in_page(target)) {
        f.kind = call ? FormKind::kDirectCall : FormKind::kDirectJump;
        f.address = target;
      }
    } else if (op.type == X86_OP_REG && op.size == 8) {
      f.kind = call ? FormKind::kRegisterCall : FormKind::kRegisterJump;
      f.reg = full_register(op.reg);
    } else if (op.type == X86_OP_MEM) {
      uint64_t a = 0;
      if (absolute_address(op.mem, next_rip, &a)) {
        f.kind = call ? FormKind::kMemoryCall : FormKind::kMemoryJump;
        f.address = a;
      }
    }
  }
  return f;
}

bool ends_register_tracking(const cs_insn& insn, x86_reg reg) {
  const cs_detail* d = insn.detail;
  for (uint8_t i = 0; i < d->groups_count; ++i) {
    switch (d->groups[i]) {
      case CS_GRP_CALL:
      case CS_GRP_RET:
      case CS_GRP_INT:
      case CS_GRP_IRET:
        return true;
      default:
        break;
    }
  }
  // An unconditional jump leaves the straight line; a conditional one may fall through.
  if (insn.id == X86_INS_JMP || insn.id == X86_INS_LJMP) return true;
  for (uint8_t i = 0; i < d->regs_write_count; ++i) {
    if (full_register(static_cast<x86_reg>(d->regs_write[i])) == reg) return true;
  }
  for (uint8_t i = 0; i < d->x86.op_count; ++i) {
    const cs_x86_op& op = d->x86.operands[i];
    if (op.type == X86_OP_REG && (op.access & CS_AC_WRITE) != 0 && full_register(op.reg) == reg)
      return true;
  }
  return false;
}

}  // namespace vsyscall
