// emulate_read(): decode, refuse writes to the page, check the instruction really reads the
// page, then hand it to the integer, string or vector family (read_handlers.h).
//
// Mnemonics emulated with the page as a memory source:
//   integer: mov movabs movzx movsx movsxd movbe cmp test add adc sub sbb and or xor push
//   string:  lodsb/w/d/q movsb/w/d/q cmpsb/w/d/q scasb/w/d/q, with rep/repe/repne and DF
//   vector:  movdqu movdqa movups movaps movupd movapd lddqu movntdqa movd movq movss movsd
//            movlps movlpd movhps movhpd pcmpeqb/w/d/q pminub pmaxub pand pandn por pxor
//            psubb ptest, and each one's VEX form (v...) on xmm and ymm
//   AVX-512 (EVEX, xmm/ymm/zmm0-31, {k} merge or {z} zero masking, see evex_decoder.cc):
//            vmovdqu8/16/32/64 vmovdqa32/64 vmovups vmovaps vmovupd vmovapd
//            vpcmpeqb/w/d/q vpcmpgtb/w/d/q vpcmp[u]b/w/d/q vptestm/vptestnm b/w/d/q (into k)
//            vpxor/vpor/vpand/vpandn d/q vpminub vpmaxub vpsubb vpternlogd/q
#include "vsyscall/read_emulation.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "vsyscall/emulation_step.h"
#include "vsyscall/evex_decoder.h"
#include "vsyscall/page.h"
#include "vsyscall/read_handlers.h"
#include "vsyscall/x86_decoder.h"

namespace vsyscall {
namespace {

constexpr size_t kMaxInsnLength = 15;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The mnemonic without Capstone's prefix words ("lock inc" -> "inc").
std::string_view bare_mnemonic(const DecodedInsn& insn) {
  const std::string_view m = insn.mnemonic;
  return m.substr(m.rfind(' ') + 1);  // npos + 1 == 0
}

// Instructions whose memory operand is an address, not an access.
bool accesses_no_memory(const DecodedInsn& insn) {
  return insn.id == X86_INS_LEA || insn.id == X86_INS_NOP ||
         starts_with(bare_mnemonic(insn), "prefetch");
}

// Whether explicit operand `i` (a memory operand) is stored to. Capstone 4's per-operand
// access flags are wrong for many stores (movdqa/movups/movnti/movbe report read-only) and for
// some reads (test m, imm reports a write), so this is decided from the instruction.
bool operand_written(const DecodedInsn& insn, size_t i) {
  const std::string_view m = bare_mnemonic(insn);
  switch (insn.id) {
    case X86_INS_XCHG:
    case X86_INS_XADD:
    case X86_INS_CMPXCHG:
    case X86_INS_CMPXCHG8B:
    case X86_INS_CMPXCHG16B:
      return true;
    case X86_INS_CMP:
    case X86_INS_TEST:
    case X86_INS_BT:
    case X86_INS_PUSH:
    case X86_INS_CALL:
    case X86_INS_JMP:
    case X86_INS_PTEST:
    case X86_INS_VPTEST:
      return false;
    default:
      break;
  }
  if (i == 0 && insn.x86.op_count >= 2) return true;  // Intel order: destination first
  if (insn.x86.op_count != 1) return false;
  // One memory operand: a read (push, fld, fiadd, ...) unless the instruction stores.
  static constexpr std::string_view kStores[] = {
      "inc", "dec", "not", "neg",  "pop",  "shl",  "shr", "sal",  "sar",     "rol",
      "ror", "rcl", "rcr", "sgdt", "sidt", "sldt", "str", "smsw", "stmxcsr", "vstmxcsr"};
  if (std::find(std::begin(kStores), std::end(kStores), m) != std::end(kStores)) return true;
  static constexpr std::string_view kStorePrefixes[] = {
      "set", "fst", "fist", "fnst", "fbstp", "fsave", "fnsave", "fxsave", "xsave"};
  for (std::string_view p : kStorePrefixes) {
    if (starts_with(m, p)) return true;
  }
  return (insn.x86.operands[0].access & CS_AC_WRITE) != 0;
}

// Why the instruction stores into the page, or nullopt if it does not.
std::optional<std::string> page_write(const EmulationStep& s) {
  const DecodedInsn& insn = s.insn();
  if (const auto str = string_operands(s)) {
    if (str->destination_written && str->count > 0 && touches_page(*str->destination, str->width)) {
      return "the string store to es:[rdi] targets the vsyscall page";
    }
    return std::nullopt;
  }
  if (insn.id == X86_INS_MASKMOVDQU || insn.id == X86_INS_VMASKMOVDQU) {
    if (touches_page(s.before().gpr.rdi, 16)) return "maskmovdqu stores to the vsyscall page";
  }
  if (insn.id == X86_INS_PUSH || insn.id == X86_INS_CALL) {
    // The implicit store goes below rsp; a stack inside the page is a store into the page.
    if (touches_page(s.before().gpr.rsp - 8, 8)) return "the push stores to a stack in the page";
  }
  if (accesses_no_memory(insn)) return std::nullopt;
  const auto ops = insn.operands();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].type != X86_OP_MEM || !operand_written(insn, i)) continue;
    if (touches_page(s.address_of(ops[i].mem), ops[i].size)) {
      return "the memory operand is a store into the vsyscall page";
    }
  }
  return std::nullopt;
}

bool reads_page(const EmulationStep& s) {
  if (const auto str = string_operands(s)) {
    const bool src = str->source && touches_page(*str->source, str->width);
    const bool dst = str->destination && touches_page(*str->destination, str->width);
    return src || dst;
  }
  if (accesses_no_memory(s.insn())) return false;
  for (const cs_x86_op& op : s.insn().operands()) {
    if (op.type == X86_OP_MEM && touches_page(s.address_of(op.mem), op.size)) return true;
  }
  return false;
}

bool emulate(EmulationStep& s, const EvexOp* evex) {
  const DecodedInsn& insn = s.insn();
  if (insn.x86.prefix[0] == 0xf0) return s.unsupported("lock prefix on a load (#UD)");
  if (insn.encoding == VectorEncoding::kEvex) {
    if (evex == nullptr) return s.unsupported("EVEX (AVX-512) instruction not emulated");
    if (!s.before().have_avx512) {
      return s.unsupported("EVEX-encoded (AVX-512) instruction but no AVX-512 state");
    }
    return emulate_evex(s, *evex);
  }
  if (insn.encoding == VectorEncoding::kVex && !s.before().have_avx) {
    return s.unsupported("VEX-encoded instruction but the engine reported no AVX state");
  }
  if (string_kind(insn)) return emulate_string(s);
  if (handles_integer(insn)) return emulate_integer(s);
  if (handles_vector(insn)) return emulate_vector(s);
  return s.unsupported("no emulation for " + insn.mnemonic);
}

}  // namespace

ReadEmulation emulate_read(std::span<const uint8_t> code, CpuState& state, Memory& mem) {
  ReadEmulation result;
  X86Decoder& decoder = thread_decoder();
  if (!decoder.ok()) {
    result.reason = "Capstone could not be opened for x86-64";
    return result;
  }
  const auto bytes = code.first(std::min(code.size(), kMaxInsnLength));
  auto insn = decoder.decode(bytes, state.gpr.rip);
  // AVX-512 forms come from our own decoder: Capstone 4 misses or misnames most of them.
  // Its text, when it has one, is kept for the report.
  const auto evex = decode_evex(bytes, state.gpr.rip);
  if (evex) {
    const std::string text = insn ? insn->text : evex->insn.text;
    insn = evex->insn;
    insn->text = text;
  }
  if (!insn) {
    result.reason = "the bytes at rip do not decode as an x86-64 instruction";
    return result;
  }
  result.instruction = insn->text;

  EmulationStep step(*insn, state, mem, result);
  if (auto why = page_write(step)) {
    result.status = ReadEmulation::Status::kWritesPage;
    result.reason = std::move(*why);
    return result;
  }
  if (!reads_page(step)) {
    result.status = ReadEmulation::Status::kUnsupported;
    result.reason = "no memory operand of the instruction addresses the vsyscall page";
    return result;
  }
  if (emulate(step, evex ? &evex->op : nullptr)) step.commit(state);
  return result;
}

}  // namespace vsyscall
