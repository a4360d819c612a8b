#include "emulator/report/disasm.h"

#include "vsyscall/x86_decoder.h"

namespace emulator {

std::optional<Disassembler::Insn> Disassembler::decode(std::span<const uint8_t> code,
                                                       uint64_t address) {
  if (code.empty()) return std::nullopt;
  auto d = vsyscall::thread_decoder().decode(code, address);
  if (!d) return std::nullopt;
  Insn out;
  out.text = d->text;
  out.size = d->size;
  out.is_call = d->id == X86_INS_CALL || d->id == X86_INS_LCALL;
  out.is_jump = d->id == X86_INS_JMP || d->id == X86_INS_LJMP;
  if ((out.is_call || out.is_jump) && d->x86.op_count == 1 && d->x86.operands[0].type == X86_OP_REG)
    out.target_reg = d->x86.operands[0].reg;
  return out;
}

std::optional<Disassembler::Insn> Disassembler::call_before(std::span<const uint8_t> before,
                                                            uint64_t return_address) {
  // Shortest encodings first: `call *%reg` (2-3 bytes) is what legacy callers used. A 2-byte
  // `call *%rsp` is really the tail of a 3-byte `call *%r12`: nobody calls through rsp.
  for (size_t len = 2; len <= before.size() && len <= 15; ++len) {
    auto insn = decode(before.subspan(before.size() - len), return_address - len);
    if (insn && insn->is_call && insn->size == len && insn->target_reg != X86_REG_RSP) return insn;
  }
  return std::nullopt;
}

}  // namespace emulator
