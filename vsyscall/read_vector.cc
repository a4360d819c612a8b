// SSE/AVX instructions with a memory source: full and partial loads into xmm/ymm, packed
// compares and logic (what glibc's memcmp/strlen/memchr do), ptest.
#include <algorithm>
#include <array>
#include <string>

#include "vsyscall/read_handlers.h"
#include "vsyscall/x86_alu.h"
#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

enum class Kind {
  kLoad,        // the whole register (xmm or ymm) <- memory
  kLoadScalar,  // low 4/8 bytes <- memory, the rest of the xmm zeroed
  kMergeLow,    // bytes 0..7 <- memory, 8..15 kept (or from the first source with VEX)
  kMergeHigh,   // bytes 8..15 <- memory
  kPacked,      // dst <- op(dst or first source, memory), element-wise
  kTest,        // ptest: ZF/CF from the register and memory, nothing written
};

enum class Op { kNone, kCmpEq, kMinU, kMaxU, kAnd, kAndN, kOr, kXor, kSub };

struct VecInsn {
  unsigned id;
  Kind kind;
  bool aligned = false;  // the instruction itself demands alignment (movdqa & co)
  Op op = Op::kNone;
  unsigned element = 1;  // bytes per element for kPacked
};

constexpr VecInsn kTable[] = {
    {X86_INS_MOVDQU, Kind::kLoad},
    {X86_INS_MOVUPS, Kind::kLoad},
    {X86_INS_MOVUPD, Kind::kLoad},
    {X86_INS_LDDQU, Kind::kLoad},
    {X86_INS_MOVDQA, Kind::kLoad, true},
    {X86_INS_MOVAPS, Kind::kLoad, true},
    {X86_INS_MOVAPD, Kind::kLoad, true},
    {X86_INS_MOVNTDQA, Kind::kLoad, true},
    {X86_INS_VMOVDQU, Kind::kLoad},
    {X86_INS_VMOVUPS, Kind::kLoad},
    {X86_INS_VMOVUPD, Kind::kLoad},
    {X86_INS_VLDDQU, Kind::kLoad},
    {X86_INS_VMOVDQA, Kind::kLoad, true},
    {X86_INS_VMOVAPS, Kind::kLoad, true},
    {X86_INS_VMOVAPD, Kind::kLoad, true},
    {X86_INS_VMOVNTDQA, Kind::kLoad, true},
    {X86_INS_MOVD, Kind::kLoadScalar},
    {X86_INS_MOVQ, Kind::kLoadScalar},
    {X86_INS_MOVSS, Kind::kLoadScalar},
    {X86_INS_MOVSD, Kind::kLoadScalar},
    {X86_INS_VMOVD, Kind::kLoadScalar},
    {X86_INS_VMOVQ, Kind::kLoadScalar},
    {X86_INS_VMOVSS, Kind::kLoadScalar},
    {X86_INS_VMOVSD, Kind::kLoadScalar},
    {X86_INS_MOVLPS, Kind::kMergeLow},
    {X86_INS_MOVLPD, Kind::kMergeLow},
    {X86_INS_VMOVLPS, Kind::kMergeLow},
    {X86_INS_VMOVLPD, Kind::kMergeLow},
    {X86_INS_MOVHPS, Kind::kMergeHigh},
    {X86_INS_MOVHPD, Kind::kMergeHigh},
    {X86_INS_VMOVHPS, Kind::kMergeHigh},
    {X86_INS_VMOVHPD, Kind::kMergeHigh},
    {X86_INS_PCMPEQB, Kind::kPacked, false, Op::kCmpEq, 1},
    {X86_INS_PCMPEQW, Kind::kPacked, false, Op::kCmpEq, 2},
    {X86_INS_PCMPEQD, Kind::kPacked, false, Op::kCmpEq, 4},
    {X86_INS_PCMPEQQ, Kind::kPacked, false, Op::kCmpEq, 8},
    {X86_INS_PMINUB, Kind::kPacked, false, Op::kMinU, 1},
    {X86_INS_PMAXUB, Kind::kPacked, false, Op::kMaxU, 1},
    {X86_INS_PAND, Kind::kPacked, false, Op::kAnd, 8},
    {X86_INS_PANDN, Kind::kPacked, false, Op::kAndN, 8},
    {X86_INS_POR, Kind::kPacked, false, Op::kOr, 8},
    {X86_INS_PXOR, Kind::kPacked, false, Op::kXor, 8},
    {X86_INS_PSUBB, Kind::kPacked, false, Op::kSub, 1},
    {X86_INS_VPCMPEQB, Kind::kPacked, false, Op::kCmpEq, 1},
    {X86_INS_VPCMPEQW, Kind::kPacked, false, Op::kCmpEq, 2},
    {X86_INS_VPCMPEQD, Kind::kPacked, false, Op::kCmpEq, 4},
    {X86_INS_VPCMPEQQ, Kind::kPacked, false, Op::kCmpEq, 8},
    {X86_INS_VPMINUB, Kind::kPacked, false, Op::kMinU, 1},
    {X86_INS_VPMAXUB, Kind::kPacked, false, Op::kMaxU, 1},
    {X86_INS_VPAND, Kind::kPacked, false, Op::kAnd, 8},
    {X86_INS_VPANDN, Kind::kPacked, false, Op::kAndN, 8},
    {X86_INS_VPOR, Kind::kPacked, false, Op::kOr, 8},
    {X86_INS_VPXOR, Kind::kPacked, false, Op::kXor, 8},
    {X86_INS_VPSUBB, Kind::kPacked, false, Op::kSub, 1},
    {X86_INS_PTEST, Kind::kTest},
    {X86_INS_VPTEST, Kind::kTest},
};

const VecInsn* find(unsigned id) {
  for (const VecInsn& e : kTable) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

using Bytes = std::array<uint8_t, 32>;

uint64_t load_le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void store_le(uint8_t* p, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

Bytes packed(Op op, unsigned element, const Bytes& a, const Bytes& b, unsigned width) {
  Bytes r{};
  const uint64_t mask = width_mask(element);
  for (unsigned off = 0; off < width; off += element) {
    const uint64_t x = load_le(a.data() + off, element);
    const uint64_t y = load_le(b.data() + off, element);
    uint64_t z = 0;
    switch (op) {
      case Op::kCmpEq:
        z = x == y ? mask : 0;
        break;
      case Op::kMinU:
        z = std::min(x, y);
        break;
      case Op::kMaxU:
        z = std::max(x, y);
        break;
      case Op::kAnd:
        z = x & y;
        break;
      case Op::kAndN:
        z = ~x & y;
        break;  // pandn: NOT of the first operand
      case Op::kOr:
        z = x | y;
        break;
      case Op::kXor:
        z = x ^ y;
        break;
      case Op::kSub:
        z = x - y;
        break;  // wraps per element
      case Op::kNone:
        break;
    }
    store_le(r.data() + off, z & mask, element);
  }
  return r;
}

// The register operand a VEX three-operand form reads besides memory (operand 1), or the
// destination itself for the legacy two-operand form.
std::optional<VecSlot> first_source(EmulationStep& s, const VecSlot& dst) {
  const auto ops = s.insn().operands();
  if (ops.size() == 2) return dst;
  if (ops.size() == 3 && ops[1].type == X86_OP_REG) return vec_slot(ops[1].reg);
  return std::nullopt;
}

}  // namespace

bool handles_vector(const DecodedInsn& insn) {
  return find(insn.id) != nullptr;
}

bool emulate_vector(EmulationStep& s) {
  const VecInsn* e = find(s.insn().id);
  const auto ops = s.insn().operands();
  const VectorEncoding enc = s.insn().encoding;
  if (e == nullptr || ops.size() < 2) return s.unsupported("not an emulated vector load");
  if (ops[0].type != X86_OP_REG || ops.back().type != X86_OP_MEM) {
    return s.unsupported("only the `vector register <- memory` form is emulated");
  }
  const auto dst = vec_slot(ops[0].reg);
  if (!dst) return s.unsupported("register outside xmm0-15/ymm0-15 (MMX, GPR or AVX-512)");

  const cs_x86_op& m = ops.back();
  const unsigned mem_width = m.size;
  if (mem_width == 0 || mem_width > 32) return s.unsupported("unexpected memory operand size");
  const uint64_t addr = s.address_of(m.mem);
  // Legacy SSE arithmetic on a 16-byte memory operand demands alignment; VEX forms do not.
  const bool aligned = e->aligned || (enc == VectorEncoding::kLegacy &&
                                      (e->kind == Kind::kPacked || e->kind == Kind::kTest));
  if (aligned && addr % mem_width != 0) {
    return s.unsupported("misaligned " + std::to_string(mem_width) +
                         "-byte operand: the CPU raises #GP for this instruction");
  }
  Bytes mem{};
  if (!s.read(addr, std::span<uint8_t>(mem.data(), mem_width))) return false;

  switch (e->kind) {
    case Kind::kLoad:
      if (mem_width != dst->width) return s.unsupported("operand widths differ");
      s.write_vector(dst->index, std::span<const uint8_t>(mem.data(), dst->width), enc);
      return true;
    case Kind::kLoadScalar:
      if (ops.size() != 2 || mem_width > 8) return s.unsupported("not a scalar load form");
      s.write_vector(dst->index, std::span<const uint8_t>(mem.data(), 16), enc);
      return true;
    case Kind::kMergeLow:
    case Kind::kMergeHigh: {
      const auto src = first_source(s, *dst);
      if (!src || mem_width != 8) return s.unsupported("not a 64-bit merge load form");
      Bytes v = s.vector(src->index);
      const unsigned at = e->kind == Kind::kMergeLow ? 0 : 8;
      std::copy_n(mem.begin(), 8, v.begin() + at);
      s.write_vector(dst->index, std::span<const uint8_t>(v.data(), 16), enc);
      return true;
    }
    case Kind::kPacked: {
      const auto src = first_source(s, *dst);
      if (!src || mem_width != dst->width) return s.unsupported("not a packed-memory form");
      const Bytes r = packed(e->op, e->element, s.vector(src->index), mem, dst->width);
      s.write_vector(dst->index, std::span<const uint8_t>(r.data(), dst->width), enc);
      return true;
    }
    case Kind::kTest: {
      if (ops.size() != 2 || mem_width != dst->width) return s.unsupported("not a ptest form");
      const Bytes& a = s.vector(dst->index);
      bool and_zero = true;
      bool andn_zero = true;
      for (unsigned i = 0; i < dst->width; ++i) {
        if (a[i] & mem[i]) and_zero = false;
        if (~a[i] & mem[i]) andn_zero = false;
      }
      // ZF and CF from the test, AF/OF/PF/SF cleared.
      s.set_arith_flags((and_zero ? kFlagZF : 0) | (andn_zero ? kFlagCF : 0));
      return true;
    }
  }
  return s.unsupported("not an emulated vector load");
}

}  // namespace vsyscall
