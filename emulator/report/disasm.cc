// Capstone wrappers.
#include "emulator/report/disasm.h"

namespace emulator {

Disassembler::~Disassembler() {
  if (ok_) cs_close(&handle_);
}

bool Disassembler::open() {
  if (!tried_) {
    tried_ = true;
    ok_ = cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) == CS_ERR_OK;
    if (ok_) cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  return ok_;
}

std::optional<Disassembler::Insn> Disassembler::decode(std::span<const uint8_t> code,
                                                       uint64_t address) {
  if (code.empty() || !open()) return std::nullopt;
  cs_insn* insn = nullptr;
  size_t n = cs_disasm(handle_, code.data(), code.size(), address, 1, &insn);
  if (n == 0) return std::nullopt;
  Insn out;
  out.text = std::string(insn->mnemonic) + (insn->op_str[0] ? " " : "") + insn->op_str;
  out.size = insn->size;
  if (insn->detail) {
    for (uint8_t i = 0; i < insn->detail->groups_count; ++i) {
      if (insn->detail->groups[i] == X86_GRP_CALL) out.is_call = true;
      if (insn->detail->groups[i] == X86_GRP_JUMP) out.is_jump = true;
    }
    const cs_x86& x = insn->detail->x86;
    if ((out.is_call || out.is_jump) && x.op_count == 1 && x.operands[0].type == X86_OP_REG)
      out.target_reg = x.operands[0].reg;
  }
  cs_free(insn, n);
  return out;
}

std::optional<Disassembler::Insn> Disassembler::call_before(std::span<const uint8_t> before,
                                                            uint64_t return_address) {
  // Shortest encodings first: `call *%reg` (2-3 bytes) is what legacy callers used.
  for (size_t len = 2; len <= before.size() && len <= 15; ++len) {
    auto insn = decode(before.subspan(before.size() - len), return_address - len);
    if (insn && insn->is_call && insn->size == len) return insn;
  }
  return std::nullopt;
}

}  // namespace emulator
