// AVX-512 instructions with a memory source: loads, compares and tests into mask registers,
// logic/min/max/sub and vpternlog, each with opmask merging or zeroing. Masked-off elements
// are not read, so they cannot fault -- glibc's EVEX string functions rely on that to read a
// partial vector up to the end of a buffer.
#include <algorithm>
#include <string>

#include "vsyscall/read_handlers.h"
#include "vsyscall/x86_alu.h"
#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

using Zmm = EmulationStep::Zmm;

uint64_t lane(const Zmm& v, unsigned i, unsigned element) {
  uint64_t x = 0;
  for (unsigned b = 0; b < element; ++b) {
    x |= static_cast<uint64_t>(v[i * element + b]) << (8 * b);
  }
  return x;
}

void set_lane(Zmm& v, unsigned i, unsigned element, uint64_t x) {
  for (unsigned b = 0; b < element; ++b) v[i * element + b] = static_cast<uint8_t>(x >> (8 * b));
}

bool compare(EvexPredicate p, bool is_signed, unsigned element, uint64_t a, uint64_t b) {
  bool lt = a < b;
  if (is_signed) {
    lt = static_cast<int64_t>(sign_extend(a, element)) <
         static_cast<int64_t>(sign_extend(b, element));
  }
  switch (p) {
    case EvexPredicate::kEq:
      return a == b;
    case EvexPredicate::kLt:
      return lt;
    case EvexPredicate::kLe:
      return lt || a == b;
    case EvexPredicate::kFalse:
      return false;
    case EvexPredicate::kNe:
      return a != b;
    case EvexPredicate::kGe:
      return !lt;
    case EvexPredicate::kGt:
      return !lt && a != b;
    case EvexPredicate::kTrue:
      return true;
  }
  return false;
}

uint64_t packed(EvexPackedOp op, unsigned element, uint64_t a, uint64_t b) {
  switch (op) {
    case EvexPackedOp::kXor:
      return a ^ b;
    case EvexPackedOp::kOr:
      return a | b;
    case EvexPackedOp::kAnd:
      return a & b;
    case EvexPackedOp::kAndN:
      return ~a & b;
    case EvexPackedOp::kMinU:
      return std::min(a, b);
    case EvexPackedOp::kMaxU:
      return std::max(a, b);
    case EvexPackedOp::kSub:
      return (a - b) & width_mask(element);
    case EvexPackedOp::kNone:
      break;
  }
  return 0;
}

// Bit i of the result is imm8[(d_i << 2) | (a_i << 1) | b_i].
uint64_t ternlog(uint8_t imm, uint64_t d, uint64_t a, uint64_t b) {
  uint64_t r = 0;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const unsigned index =
        static_cast<unsigned>((((d >> bit) & 1) << 2) | (((a >> bit) & 1) << 1) | ((b >> bit) & 1));
    r |= static_cast<uint64_t>((imm >> index) & 1) << bit;
  }
  return r;
}

}  // namespace

bool emulate_evex(EmulationStep& s, const EvexOp& op) {
  const DecodedInsn& insn = s.insn();
  const EvexPrefix& p = insn.evex;
  const auto ops = insn.operands();
  if (p.broadcast) return s.unsupported("EVEX embedded broadcast");
  if (p.zeroing && p.mask == 0) return s.unsupported("zeroing without an opmask (#UD)");
  const bool to_mask =
      op.kind == EvexKind::kCompare || op.kind == EvexKind::kTest || op.kind == EvexKind::kTestNot;
  if (to_mask && p.zeroing) return s.unsupported("zeroing-masking into a mask register (#UD)");

  const cs_x86_op* mem_op = nullptr;
  for (const cs_x86_op& o : ops) {
    if (o.type == X86_OP_MEM) mem_op = &o;
  }
  if (mem_op == nullptr) return s.unsupported("no memory operand");
  const uint64_t addr = s.address_of(mem_op->mem);
  const unsigned length = p.length;
  const unsigned count = length / op.element;
  if (op.aligned && addr % length != 0) {
    return s.unsupported("misaligned " + std::to_string(length) +
                         "-byte operand: the CPU raises #GP for this instruction");
  }
  const uint64_t mask = p.mask == 0 ? ~0ULL : s.next().avx512.k[p.mask];
  const auto active = [&](unsigned i) { return ((mask >> i) & 1) != 0; };

  // The memory operand, only its active elements when masked.
  Zmm mem{};
  if (p.mask == 0) {
    if (!s.read(addr, std::span<uint8_t>(mem.data(), length))) return false;
  } else {
    for (unsigned i = 0; i < count; ++i) {
      if (!active(i)) continue;
      const auto elem = std::span<uint8_t>(mem.data() + i * op.element, op.element);
      if (!s.read(addr + i * op.element, elem)) return false;
    }
  }

  Zmm src{};
  if (op.kind != EvexKind::kLoad) {
    const auto slot =
        ops.size() > 1 && ops[1].type == X86_OP_REG ? evex_vec_slot(ops[1].reg) : std::nullopt;
    if (!slot) return s.unsupported("unexpected first source operand");
    src = s.zmm(slot->index);
  }

  if (to_mask) {
    const auto k = ops[0].type == X86_OP_REG ? mask_index(ops[0].reg) : std::nullopt;
    if (!k) return s.unsupported("unexpected mask destination");
    uint64_t bits = 0;
    for (unsigned i = 0; i < count; ++i) {
      if (!active(i)) continue;
      const uint64_t a = lane(src, i, op.element);
      const uint64_t b = lane(mem, i, op.element);
      bool on = false;
      switch (op.kind) {
        case EvexKind::kCompare:
          on = compare(op.predicate, op.is_signed, op.element, a, b);
          break;
        case EvexKind::kTest:
          on = (a & b) != 0;
          break;
        case EvexKind::kTestNot:
          on = (a & b) == 0;
          break;
        default:
          break;
      }
      if (on) bits |= 1ULL << i;
    }
    s.write_mask(*k, bits);  // bits above the element count are zero
    return true;
  }

  // (value_or rather than an optional: g++ 12 sees a maybe-uninitialized optional here.)
  const VecSlot dst = evex_vec_slot(ops[0].reg).value_or(VecSlot{0, 0});
  if (ops[0].type != X86_OP_REG || dst.width == 0) {
    return s.unsupported("unexpected vector destination");
  }
  const Zmm old = s.zmm(dst.index);
  Zmm result{};  // bytes at and above the vector length stay zero
  for (unsigned i = 0; i < count; ++i) {
    uint64_t r = 0;
    if (!active(i)) {
      r = p.zeroing ? 0 : lane(old, i, op.element);
    } else {
      const uint64_t b = lane(mem, i, op.element);
      switch (op.kind) {
        case EvexKind::kLoad:
          r = b;
          break;
        case EvexKind::kPacked:
          r = packed(op.op, op.element, lane(src, i, op.element), b);
          break;
        case EvexKind::kTernlog:
          r = ternlog(op.imm, lane(old, i, op.element), lane(src, i, op.element), b);
          break;
        default:
          break;
      }
    }
    set_lane(result, i, op.element, r);
  }
  s.write_zmm(dst.index, result);
  return true;
}

}  // namespace vsyscall
