// String instructions that read the page: lods, movs, cmps, scas, with rep/repe/repne and DF.
#include <algorithm>
#include <vector>

#include "vsyscall/read_handlers.h"
#include "vsyscall/x86_alu.h"
#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

constexpr uint8_t kPrefixRepne = 0xf2;
constexpr uint8_t kPrefixRep = 0xf3;

bool has_rep(const cs_x86& x) {
  return x.prefix[0] == kPrefixRep || x.prefix[0] == kPrefixRepne;
}

// The segment register an override prefix names for the source operand (fs/gs matter).
unsigned source_segment(const cs_x86& x) {
  switch (x.prefix[1]) {
    case 0x64:
      return X86_REG_FS;
    case 0x65:
      return X86_REG_GS;
    default:
      return X86_REG_INVALID;
  }
}

unsigned element_width(const cs_x86& x) {
  if ((x.opcode[0] & 1) == 0) return 1;  // the byte forms have even opcodes
  if (x.rex & 0x08) return 8;            // REX.W
  if (x.prefix[2] == 0x66) return 2;
  return 4;
}

// The accumulator slot of the element width: al, ax, eax, rax.
GprSlot accumulator(unsigned width) {
  return GprSlot{&Gpr::rax, width, 0};
}

// Element i of a pointer stream that moves by `width` bytes per element, down when DF is set.
struct Stream {
  uint64_t first;
  unsigned width;
  bool down;
  uint64_t at(uint64_t i) const { return down ? first - i * width : first + i * width; }
};

// After `n` elements: rsi/rdi moved, rcx counted down under rep.
void advance(EmulationStep& s, const StringOperands& op, uint64_t n, bool uses_rsi, bool uses_rdi) {
  Gpr& g = s.gpr();
  const bool down = (g.eflags & kFlagDF) != 0;
  const uint64_t delta = n * op.width;
  if (uses_rsi) g.rsi = down ? g.rsi - delta : g.rsi + delta;
  if (uses_rdi) g.rdi = down ? g.rdi - delta : g.rdi + delta;
  if (has_rep(s.x86())) g.rcx -= n;
}

bool lods(EmulationStep& s, const StringOperands& op) {
  const Stream src{*op.source, op.width, (s.gpr().eflags & kFlagDF) != 0};
  // Every element is loaded; only the last one stays in the accumulator. The source starts
  // in the page, so a runaway count ends in a fault at the page's edge within 4097 elements.
  uint64_t v = 0;
  for (uint64_t i = 0; i < op.count; ++i) {
    if (!s.read_uint(src.at(i), op.width, v)) return false;
  }
  write_gpr(s.gpr(), accumulator(op.width), v);
  advance(s, op, op.count, true, false);
  return true;
}

bool movs(EmulationStep& s, const StringOperands& op) {
  const bool down = (s.gpr().eflags & kFlagDF) != 0;
  const Stream src{*op.source, op.width, down};
  // The source is the page (a destination in the page was refused as a page write), so the
  // loop faults at the page's edge within 4097 elements whatever rcx says.
  std::vector<uint8_t> elements;
  for (uint64_t i = 0; i < op.count; ++i) {
    elements.resize(elements.size() + op.width);
    if (!s.read(src.at(i), std::span<uint8_t>(elements.data() + i * op.width, op.width))) {
      return false;
    }
  }
  // Element i goes to rdi -/+ i*width: as one block from the lowest address up.
  const uint64_t n = op.count;
  std::vector<uint8_t> block(elements.size());
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t slot = down ? n - 1 - i : i;
    std::copy_n(elements.begin() + static_cast<std::ptrdiff_t>(i * op.width), op.width,
                block.begin() + static_cast<std::ptrdiff_t>(slot * op.width));
  }
  const uint64_t lowest = down ? s.gpr().rdi - (n - 1) * op.width : s.gpr().rdi;
  if (!s.write(lowest, std::move(block), down)) return false;
  advance(s, op, n, true, true);
  return true;
}

// cmps compares [rsi] with es:[rdi]; scas compares the accumulator with es:[rdi]. repe stops
// at the first difference, repne at the first match, both when rcx reaches 0.
bool compare(EmulationStep& s, const StringOperands& op) {
  const bool down = (s.gpr().eflags & kFlagDF) != 0;
  const bool cmps = op.kind == StringKind::kCmps;
  const Stream dst{*op.destination, op.width, down};
  const Stream src{cmps ? *op.source : 0, op.width, down};
  const uint64_t acc = read_gpr(s.gpr(), accumulator(op.width));
  const uint8_t rep = s.x86().prefix[0];
  uint64_t flags = 0;
  uint64_t n = 0;
  // One operand starts in the page, so the loop faults at the page's edge at the latest.
  while (n < op.count) {
    uint64_t a = acc;
    uint64_t b = 0;
    if (cmps && !s.read_uint(src.at(n), op.width, a)) return false;
    if (!s.read_uint(dst.at(n), op.width, b)) return false;
    flags = alu(AluOp::kSub, op.width, a, b).flags;
    ++n;
    const bool equal = (flags & kFlagZF) != 0;
    if (rep == kPrefixRep && !equal) break;
    if (rep == kPrefixRepne && equal) break;
  }
  s.set_arith_flags(flags);
  advance(s, op, n, cmps, true);
  return true;
}

}  // namespace

std::optional<StringKind> string_kind(const DecodedInsn& insn) {
  if (insn.encoding != VectorEncoding::kLegacy) return std::nullopt;
  switch (insn.x86.opcode[0]) {
    case 0xa4:
    case 0xa5:
      return StringKind::kMovs;
    case 0xa6:
    case 0xa7:
      return StringKind::kCmps;
    case 0xaa:
    case 0xab:
      return StringKind::kStos;
    case 0xac:
    case 0xad:
      return StringKind::kLods;
    case 0xae:
    case 0xaf:
      return StringKind::kScas;
    case 0x6c:
    case 0x6d:
      return StringKind::kIns;
    case 0x6e:
    case 0x6f:
      return StringKind::kOuts;
    default:
      return std::nullopt;
  }
}

std::optional<StringOperands> string_operands(const EmulationStep& s) {
  const auto kind = string_kind(s.insn());
  if (!kind) return std::nullopt;
  const cs_x86& x = s.x86();
  const Gpr& g = s.before().gpr;
  StringOperands op;
  op.kind = *kind;
  op.width = element_width(x);
  op.count = has_rep(x) ? g.rcx : 1;
  const bool short_addr = x.addr_size == 4;  // esi/edi
  const uint64_t rsi = short_addr ? (g.rsi & 0xffffffffULL) : g.rsi;
  const uint64_t rdi = short_addr ? (g.rdi & 0xffffffffULL) : g.rdi;
  const uint64_t source = s.segment_base(source_segment(x)) + rsi;
  switch (*kind) {
    case StringKind::kMovs:
      op.source = source;
      op.destination = rdi;
      op.destination_written = true;
      break;
    case StringKind::kCmps:
      op.source = source;
      op.destination = rdi;
      break;
    case StringKind::kStos:
    case StringKind::kIns:
      op.destination = rdi;
      op.destination_written = true;
      break;
    case StringKind::kLods:
    case StringKind::kOuts:
      op.source = source;
      break;
    case StringKind::kScas:
      op.destination = rdi;
      break;
  }
  return op;
}

bool emulate_string(EmulationStep& s) {
  const auto op = string_operands(s);
  if (!op) return s.unsupported("not a string instruction");
  if (s.x86().addr_size != 8) {
    return s.unsupported("string instruction with a 32-bit address size (esi/edi/ecx)");
  }
  if (op->count == 0) return true;  // rep with rcx = 0: no access, nothing changes
  switch (op->kind) {
    case StringKind::kLods:
      return lods(s, *op);
    case StringKind::kMovs:
      return movs(s, *op);
    case StringKind::kCmps:
    case StringKind::kScas:
      return compare(s, *op);
    case StringKind::kOuts:
      return s.unsupported("port I/O (outs) is not emulated");
    case StringKind::kStos:
    case StringKind::kIns:
      break;
  }
  return s.unsupported("this string instruction does not read the page");
}

}  // namespace vsyscall
