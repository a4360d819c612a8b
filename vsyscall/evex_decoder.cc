// EVEX prefix, ModRM/SIB with compressed disp8*N, and the opcode table of the AVX-512 loads,
// compares, tests and logic ops we emulate.
#include "vsyscall/evex_decoder.h"

#include <cstdio>
#include <string>

#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

constexpr int kAnyW = -1;
enum Pp : uint8_t { kNoPrefix = 0, k66 = 1, kF3 = 2, kF2 = 3 };

struct Row {
  uint8_t map;  // 1: 0F, 2: 0F38, 3: 0F3A
  uint8_t pp;
  uint8_t opcode;
  int w;
  const char* name;
  EvexKind kind;
  unsigned element;
  bool aligned = false;
  bool is_signed = false;
  EvexPredicate predicate = EvexPredicate::kEq;
  bool predicate_from_imm = false;
  EvexPackedOp op = EvexPackedOp::kNone;
};

using K = EvexKind;
using P = EvexPredicate;
using O = EvexPackedOp;

constexpr Row kRows[] = {
    {1, kF2, 0x6f, 0, "vmovdqu8", K::kLoad, 1},
    {1, kF2, 0x6f, 1, "vmovdqu16", K::kLoad, 2},
    {1, kF3, 0x6f, 0, "vmovdqu32", K::kLoad, 4},
    {1, kF3, 0x6f, 1, "vmovdqu64", K::kLoad, 8},
    {1, k66, 0x6f, 0, "vmovdqa32", K::kLoad, 4, true},
    {1, k66, 0x6f, 1, "vmovdqa64", K::kLoad, 8, true},
    {1, kNoPrefix, 0x10, 0, "vmovups", K::kLoad, 4},
    {1, k66, 0x10, 1, "vmovupd", K::kLoad, 8},
    {1, kNoPrefix, 0x28, 0, "vmovaps", K::kLoad, 4, true},
    {1, k66, 0x28, 1, "vmovapd", K::kLoad, 8, true},
    {1, k66, 0x74, kAnyW, "vpcmpeqb", K::kCompare, 1, false, false, P::kEq},
    {1, k66, 0x75, kAnyW, "vpcmpeqw", K::kCompare, 2, false, false, P::kEq},
    {1, k66, 0x76, 0, "vpcmpeqd", K::kCompare, 4, false, false, P::kEq},
    {2, k66, 0x29, 1, "vpcmpeqq", K::kCompare, 8, false, false, P::kEq},
    {1, k66, 0x64, kAnyW, "vpcmpgtb", K::kCompare, 1, false, true, P::kGt},
    {1, k66, 0x65, kAnyW, "vpcmpgtw", K::kCompare, 2, false, true, P::kGt},
    {1, k66, 0x66, 0, "vpcmpgtd", K::kCompare, 4, false, true, P::kGt},
    {2, k66, 0x37, 1, "vpcmpgtq", K::kCompare, 8, false, true, P::kGt},
    {3, k66, 0x3f, 0, "vpcmpb", K::kCompare, 1, false, true, P::kEq, true},
    {3, k66, 0x3f, 1, "vpcmpw", K::kCompare, 2, false, true, P::kEq, true},
    {3, k66, 0x3e, 0, "vpcmpub", K::kCompare, 1, false, false, P::kEq, true},
    {3, k66, 0x3e, 1, "vpcmpuw", K::kCompare, 2, false, false, P::kEq, true},
    {3, k66, 0x1f, 0, "vpcmpd", K::kCompare, 4, false, true, P::kEq, true},
    {3, k66, 0x1f, 1, "vpcmpq", K::kCompare, 8, false, true, P::kEq, true},
    {3, k66, 0x1e, 0, "vpcmpud", K::kCompare, 4, false, false, P::kEq, true},
    {3, k66, 0x1e, 1, "vpcmpuq", K::kCompare, 8, false, false, P::kEq, true},
    {2, k66, 0x26, 0, "vptestmb", K::kTest, 1},
    {2, k66, 0x26, 1, "vptestmw", K::kTest, 2},
    {2, kF3, 0x26, 0, "vptestnmb", K::kTestNot, 1},
    {2, kF3, 0x26, 1, "vptestnmw", K::kTestNot, 2},
    {2, k66, 0x27, 0, "vptestmd", K::kTest, 4},
    {2, k66, 0x27, 1, "vptestmq", K::kTest, 8},
    {2, kF3, 0x27, 0, "vptestnmd", K::kTestNot, 4},
    {2, kF3, 0x27, 1, "vptestnmq", K::kTestNot, 8},
    {1, k66, 0xef, 0, "vpxord", K::kPacked, 4, false, false, P::kEq, false, O::kXor},
    {1, k66, 0xef, 1, "vpxorq", K::kPacked, 8, false, false, P::kEq, false, O::kXor},
    {1, k66, 0xeb, 0, "vpord", K::kPacked, 4, false, false, P::kEq, false, O::kOr},
    {1, k66, 0xeb, 1, "vporq", K::kPacked, 8, false, false, P::kEq, false, O::kOr},
    {1, k66, 0xdb, 0, "vpandd", K::kPacked, 4, false, false, P::kEq, false, O::kAnd},
    {1, k66, 0xdb, 1, "vpandq", K::kPacked, 8, false, false, P::kEq, false, O::kAnd},
    {1, k66, 0xdf, 0, "vpandnd", K::kPacked, 4, false, false, P::kEq, false, O::kAndN},
    {1, k66, 0xdf, 1, "vpandnq", K::kPacked, 8, false, false, P::kEq, false, O::kAndN},
    {1, k66, 0xda, kAnyW, "vpminub", K::kPacked, 1, false, false, P::kEq, false, O::kMinU},
    {1, k66, 0xde, kAnyW, "vpmaxub", K::kPacked, 1, false, false, P::kEq, false, O::kMaxU},
    {1, k66, 0xf8, kAnyW, "vpsubb", K::kPacked, 1, false, false, P::kEq, false, O::kSub},
    {3, k66, 0x25, 0, "vpternlogd", K::kTernlog, 4},
    {3, k66, 0x25, 1, "vpternlogq", K::kTernlog, 8},
};

bool takes_imm(const Row& r) {
  return r.predicate_from_imm || r.kind == K::kTernlog;
}
bool has_first_source(const Row& r) {
  return r.kind != K::kLoad;
}

unsigned vector_reg_id(unsigned n, unsigned length) {
  const unsigned first = length == 16 ? X86_REG_XMM0 : length == 32 ? X86_REG_YMM0 : X86_REG_ZMM0;
  return first + n;
}

std::string hex_disp(int64_t d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s0x%llx", d < 0 ? " - " : " + ",
                static_cast<unsigned long long>(d < 0 ? -d : d));
  return buf;
}

std::string format(const DecodedInsn& d, const Row& r, unsigned length) {
  X86Decoder& names = thread_decoder();
  const cs_x86& x = d.x86;
  std::string s = std::string(r.name) + " " + names.register_name(x.operands[0].reg);
  if (d.evex.mask != 0) s += " {k" + std::to_string(d.evex.mask) + "}";
  if (d.evex.zeroing) s += " {z}";
  for (unsigned i = 1; i < x.op_count; ++i) {
    const cs_x86_op& op = x.operands[i];
    s += ", ";
    if (op.type == X86_OP_REG) {
      s += names.register_name(op.reg);
    } else if (op.type == X86_OP_IMM) {
      s += op.imm < 10 ? std::to_string(op.imm) : hex_disp(op.imm).substr(3);  // as Capstone
    } else {
      s += length == 16 ? "xmmword ptr " : length == 32 ? "ymmword ptr " : "zmmword ptr ";
      if (op.mem.segment != X86_REG_INVALID)
        s += std::string(names.register_name(op.mem.segment)) + ":";
      std::string inner;
      if (op.mem.base != X86_REG_INVALID) inner = names.register_name(op.mem.base);
      if (op.mem.index != X86_REG_INVALID) {
        if (!inner.empty()) inner += " + ";
        inner += names.register_name(op.mem.index);
        if (op.mem.scale != 1) inner += "*" + std::to_string(op.mem.scale);
      }
      if (op.mem.disp != 0 || inner.empty()) {
        inner = inner.empty() ? hex_disp(op.mem.disp).substr(3) : inner + hex_disp(op.mem.disp);
      }
      s += "[" + inner + "]";
    }
  }
  return s;
}

}  // namespace

std::optional<EvexDecoded> decode_evex(std::span<const uint8_t> code, uint64_t address) {
  size_t i = 0;
  unsigned segment = X86_REG_INVALID;
  bool addr32 = false;
  for (; i < code.size(); ++i) {
    const uint8_t b = code[i];
    if (b == 0x64)
      segment = X86_REG_FS;
    else if (b == 0x65)
      segment = X86_REG_GS;
    else if (b == 0x67)
      addr32 = true;
    else if (b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e)
      break;
  }
  if (i + 6 > code.size() || code[i] != 0x62) return std::nullopt;
  const uint8_t p0 = code[i + 1], p1 = code[i + 2], p2 = code[i + 3];
  if ((p0 & 0x0c) != 0 || (p1 & 0x04) == 0) return std::nullopt;  // not AVX-512's EVEX
  const unsigned map = p0 & 3;
  const unsigned pp = p1 & 3;
  const int w = p1 >> 7;
  const uint8_t opcode = code[i + 4];
  const Row* row = nullptr;
  for (const Row& r : kRows) {
    if (r.map == map && r.pp == pp && r.opcode == opcode && (r.w == kAnyW || r.w == w)) row = &r;
  }
  if (row == nullptr) return std::nullopt;

  EvexDecoded out;
  DecodedInsn& d = out.insn;
  d.encoding = VectorEncoding::kEvex;
  d.evex.zeroing = (p2 & 0x80) != 0;
  d.evex.length = 16u << ((p2 >> 5) & 3);
  d.evex.broadcast = (p2 & 0x10) != 0;
  d.evex.mask = p2 & 7;
  if (d.evex.length > 64) return std::nullopt;

  size_t j = i + 5;
  const uint8_t modrm = code[j++];
  const unsigned mod = modrm >> 6;
  if (mod == 3) return std::nullopt;  // register form: touches no memory
  const unsigned reg = ((modrm >> 3) & 7) | ((p0 & 0x80) ? 0 : 8) | ((p0 & 0x10) ? 0 : 16);
  const unsigned vvvv = ((~p1 >> 3) & 15) | ((p2 & 0x08) ? 0 : 16);
  const unsigned rm = modrm & 7;
  const unsigned ext_b = (p0 & 0x20) ? 0 : 8;
  const unsigned ext_x = (p0 & 0x40) ? 0 : 8;
  const unsigned width = addr32 ? 4 : 8;

  x86_op_mem mem{};
  mem.segment = static_cast<x86_reg>(segment);
  mem.base = X86_REG_INVALID;
  mem.index = X86_REG_INVALID;
  mem.scale = 1;
  bool disp32 = mod == 2;
  if (rm == 4) {
    if (j >= code.size()) return std::nullopt;
    const uint8_t sib = code[j++];
    const unsigned index = ((sib >> 3) & 7) | ext_x;
    if (index != 4) mem.index = static_cast<x86_reg>(gpr_reg_id(index, width));
    mem.scale = 1 << (sib >> 6);
    if ((sib & 7) == 5 && mod == 0) {
      disp32 = true;
    } else {
      mem.base = static_cast<x86_reg>(gpr_reg_id((sib & 7) | ext_b, width));
    }
  } else if (rm == 5 && mod == 0) {
    mem.base = addr32 ? X86_REG_EIP : X86_REG_RIP;
    disp32 = true;
  } else {
    mem.base = static_cast<x86_reg>(gpr_reg_id(rm | ext_b, width));
  }
  if (mod == 1) {
    if (j >= code.size()) return std::nullopt;
    // Compressed displacement: disp8 * N, N = the memory operand's size for these
    // full-vector forms (broadcast forms, where N is the element size, are refused later).
    const int64_t n = d.evex.broadcast ? row->element : d.evex.length;
    mem.disp = static_cast<int8_t>(code[j++]) * n;
  } else if (disp32) {
    if (j + 4 > code.size()) return std::nullopt;
    int32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= static_cast<int32_t>(code[j + k]) << (8 * k);
    mem.disp = v;
    j += 4;
  }
  uint8_t imm = 0;
  if (takes_imm(*row)) {
    if (j >= code.size()) return std::nullopt;
    imm = code[j++];
  }

  cs_x86& x = d.x86;
  x.addr_size = static_cast<uint8_t>(width);
  x.opcode[0] = 0x62;
  x.prefix[1] = segment == X86_REG_FS ? 0x64 : segment == X86_REG_GS ? 0x65 : 0;
  x.prefix[3] = addr32 ? 0x67 : 0;
  const bool to_mask =
      row->kind == K::kCompare || row->kind == K::kTest || row->kind == K::kTestNot;
  cs_x86_op& dst = x.operands[x.op_count++];
  dst.type = X86_OP_REG;
  dst.reg =
      static_cast<x86_reg>(to_mask ? X86_REG_K0 + (reg & 7) : vector_reg_id(reg, d.evex.length));
  dst.size = static_cast<uint8_t>(to_mask ? 8 : d.evex.length);
  if (has_first_source(*row)) {
    cs_x86_op& src = x.operands[x.op_count++];
    src.type = X86_OP_REG;
    src.reg = static_cast<x86_reg>(vector_reg_id(vvvv, d.evex.length));
    src.size = static_cast<uint8_t>(d.evex.length);
  }
  cs_x86_op& m = x.operands[x.op_count++];
  m.type = X86_OP_MEM;
  m.mem = mem;
  m.size = static_cast<uint8_t>(d.evex.length);
  if (takes_imm(*row)) {
    cs_x86_op& im = x.operands[x.op_count++];
    im.type = X86_OP_IMM;
    im.imm = imm;
    im.size = 1;
  }

  d.id = X86_INS_INVALID;
  d.address = address;
  d.size = static_cast<uint16_t>(j);
  d.mnemonic = row->name;
  d.text = format(d, *row, d.evex.length);

  EvexOp& op = out.op;
  op.kind = row->kind;
  op.element = row->element;
  op.aligned = row->aligned;
  op.is_signed = row->is_signed;
  op.predicate = row->predicate_from_imm ? static_cast<EvexPredicate>(imm & 7) : row->predicate;
  op.op = row->op;
  op.imm = imm;
  return out;
}

}  // namespace vsyscall
