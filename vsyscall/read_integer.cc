// General-register instructions with a memory source: loads, compares, ALU ops into a
// register, and push.
#include <string>

#include "vsyscall/read_handlers.h"
#include "vsyscall/x86_alu.h"
#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

// The value of an operand, `width` bytes wide (immediates are sign-extended by the encoding
// and truncated here to the destination's width).
bool operand_value(EmulationStep& s, const cs_x86_op& op, unsigned width, uint64_t& value) {
  switch (op.type) {
    case X86_OP_REG: {
      const auto slot = gpr_slot(op.reg);
      if (!slot) return s.unsupported("operand is not a general register");
      value = read_gpr(s.gpr(), *slot);
      return true;
    }
    case X86_OP_IMM:
      value = static_cast<uint64_t>(op.imm) & width_mask(width);
      return true;
    case X86_OP_MEM:
      return s.read_uint(s.address_of(op.mem), op.size, value);
    default:
      return s.unsupported("unexpected operand type");
  }
}

// The destination register of `op reg, mem`, or nullopt after recording why not.
std::optional<GprSlot> register_destination(EmulationStep& s) {
  const auto ops = s.insn().operands();
  if (ops.size() != 2 || ops[0].type != X86_OP_REG || ops[1].type != X86_OP_MEM) {
    s.unsupported("only the `register <- memory` form is emulated");
    return std::nullopt;
  }
  auto slot = gpr_slot(ops[0].reg);
  if (!slot) s.unsupported("destination is not a general register");
  return slot;
}

uint64_t byte_swap(uint64_t v, unsigned width) {
  uint64_t r = 0;
  for (unsigned i = 0; i < width; ++i) r = (r << 8) | ((v >> (8 * i)) & 0xff);
  return r;
}

bool load(EmulationStep& s) {
  const auto dst = register_destination(s);
  if (!dst) return false;
  const cs_x86_op& src = s.insn().operands()[1];
  uint64_t v = 0;
  if (!s.read_uint(s.address_of(src.mem), src.size, v)) return false;
  switch (s.insn().id) {
    case X86_INS_MOVSX:
    case X86_INS_MOVSXD:
      v = sign_extend(v, src.size);
      break;
    case X86_INS_MOVBE:
      v = byte_swap(v, src.size);
      break;
    default:
      break;  // mov, movabs, movzx: the value as read, zero-extended
  }
  write_gpr(s.gpr(), *dst, v);
  return true;
}

// cmp and test: the page may be either operand, the other a register or an immediate.
bool compare(EmulationStep& s) {
  const auto ops = s.insn().operands();
  if (ops.size() != 2) return s.unsupported("unexpected operand count");
  const unsigned width = ops[0].size;
  uint64_t a = 0;
  uint64_t b = 0;
  if (!operand_value(s, ops[0], width, a) || !operand_value(s, ops[1], width, b)) return false;
  const AluOp op = s.insn().id == X86_INS_TEST ? AluOp::kAnd : AluOp::kSub;
  s.set_arith_flags(alu(op, width, a, b).flags);
  return true;
}

bool arith(EmulationStep& s, AluOp op) {
  const auto dst = register_destination(s);
  if (!dst) return false;
  const cs_x86_op& src = s.insn().operands()[1];
  uint64_t b = 0;
  if (!s.read_uint(s.address_of(src.mem), src.size, b)) return false;
  const bool carry = (s.gpr().eflags & kFlagCF) != 0;
  const AluResult r = alu(op, dst->width, read_gpr(s.gpr(), *dst), b, carry);
  write_gpr(s.gpr(), *dst, r.value);
  s.set_arith_flags(r.flags);
  return true;
}

bool push(EmulationStep& s) {
  const auto ops = s.insn().operands();
  if (ops.size() != 1 || ops[0].type != X86_OP_MEM) return s.unsupported("push of a non-memory");
  const unsigned width = ops[0].size;  // 8, or 2 with an operand-size prefix
  std::vector<uint8_t> bytes(width);
  // The address uses rsp before the push, as the SDM specifies.
  if (!s.read(s.address_of(ops[0].mem), bytes)) return false;
  const uint64_t rsp = s.gpr().rsp - width;
  if (!s.write(rsp, std::move(bytes))) return false;
  s.gpr().rsp = rsp;
  return true;
}

}  // namespace

bool handles_integer(const DecodedInsn& insn) {
  switch (insn.id) {
    case X86_INS_MOV:
    case X86_INS_MOVABS:
    case X86_INS_MOVZX:
    case X86_INS_MOVSX:
    case X86_INS_MOVSXD:
    case X86_INS_MOVBE:
    case X86_INS_CMP:
    case X86_INS_TEST:
    case X86_INS_ADD:
    case X86_INS_ADC:
    case X86_INS_SUB:
    case X86_INS_SBB:
    case X86_INS_AND:
    case X86_INS_OR:
    case X86_INS_XOR:
    case X86_INS_PUSH:
      return true;
    default:
      return false;
  }
}

bool emulate_integer(EmulationStep& s) {
  switch (s.insn().id) {
    case X86_INS_CMP:
    case X86_INS_TEST:
      return compare(s);
    case X86_INS_ADD:
      return arith(s, AluOp::kAdd);
    case X86_INS_ADC:
      return arith(s, AluOp::kAdc);
    case X86_INS_SUB:
      return arith(s, AluOp::kSub);
    case X86_INS_SBB:
      return arith(s, AluOp::kSbb);
    case X86_INS_AND:
      return arith(s, AluOp::kAnd);
    case X86_INS_OR:
      return arith(s, AluOp::kOr);
    case X86_INS_XOR:
      return arith(s, AluOp::kXor);
    case X86_INS_PUSH:
      return push(s);
    default:
      return load(s);
  }
}

}  // namespace vsyscall
