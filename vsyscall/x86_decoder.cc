// Capstone handle lifetime and the copy of one decoded instruction.
#include "vsyscall/x86_decoder.h"

namespace vsyscall {
namespace {

// Reads z, L'L, b and aaa from the last byte (P2) of the EVEX prefix. Only segment and
// address-size prefixes may precede it (anything else before 0x62 is #UD).
EvexPrefix parse_evex(const uint8_t* bytes, size_t size) {
  EvexPrefix e;
  size_t i = 0;
  while (i < size &&
         (bytes[i] == 0x26 || bytes[i] == 0x2e || bytes[i] == 0x36 || bytes[i] == 0x3e ||
          bytes[i] == 0x64 || bytes[i] == 0x65 || bytes[i] == 0x67)) {
    ++i;
  }
  if (i + 3 >= size || bytes[i] != 0x62) return e;
  const uint8_t p2 = bytes[i + 3];
  e.zeroing = (p2 & 0x80) != 0;
  e.length = 16u << ((p2 >> 5) & 3);
  e.broadcast = (p2 & 0x10) != 0;
  e.mask = p2 & 7;
  return e;
}

}  // namespace

X86Decoder::X86Decoder() {
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) {
    handle_ = 0;
    return;
  }
  if (cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
    cs_close(&handle_);
    return;
  }
  insn_ = cs_malloc(handle_);
  if (insn_ == nullptr) cs_close(&handle_);
}

X86Decoder::~X86Decoder() {
  if (insn_ != nullptr) cs_free(insn_, 1);
  if (handle_ != 0) cs_close(&handle_);
}

const char* X86Decoder::register_name(unsigned reg) const {
  const char* name = ok() ? cs_reg_name(handle_, reg) : nullptr;
  return name != nullptr ? name : "?";
}

std::optional<DecodedInsn> X86Decoder::decode(std::span<const uint8_t> code, uint64_t address) {
  if (!ok()) return std::nullopt;
  const uint8_t* p = code.data();
  size_t n = code.size();
  uint64_t a = address;
  if (!cs_disasm_iter(handle_, &p, &n, &a, insn_)) return std::nullopt;

  DecodedInsn d;
  d.id = insn_->id;
  d.address = insn_->address;
  d.size = insn_->size;
  d.mnemonic = insn_->mnemonic;
  d.text = d.mnemonic;
  if (insn_->op_str[0] != '\0') d.text += std::string(" ") + insn_->op_str;
  d.x86 = insn_->detail->x86;
  // Capstone puts the VEX/EVEX escape byte in opcode[0]. In 64-bit mode 0xc4/0xc5 (LES/LDS)
  // and 0x62 (BOUND) are invalid, so those bytes can only mean VEX and EVEX.
  switch (d.x86.opcode[0]) {
    case 0xc4:
    case 0xc5:
      d.encoding = VectorEncoding::kVex;
      break;
    case 0x62:
      d.encoding = VectorEncoding::kEvex;
      d.evex = parse_evex(insn_->bytes, insn_->size);
      break;
    default:
      d.encoding = VectorEncoding::kLegacy;
      break;
  }
  return d;
}

X86Decoder& thread_decoder() {
  thread_local X86Decoder decoder;
  return decoder;
}

}  // namespace vsyscall
