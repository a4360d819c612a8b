// Decodes one x86-64 instruction with Capstone 4 (detail mode), one cached handle per thread.
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace vsyscall {

// How the instruction was encoded; decides what a write to an xmm register does to the rest
// of the vector register (legacy SSE keeps it, VEX zeroes it) and what we refuse (EVEX).
enum class VectorEncoding { kLegacy, kVex, kEvex };

// The fields of an EVEX prefix that Capstone 4 does not report reliably.
struct EvexPrefix {
  unsigned mask = 0;       // aaa: the opmask register k1-k7, 0 for none
  bool zeroing = false;    // z: masked-off elements are zeroed rather than kept
  unsigned length = 16;    // L'L: vector length in bytes (16, 32, 64; 128 is reserved)
  bool broadcast = false;  // b with a memory operand: embedded broadcast
};

// One decoded instruction, copied out of Capstone so that it outlives the handle's buffer.
struct DecodedInsn {
  unsigned id = X86_INS_INVALID;
  uint64_t address = 0;
  uint16_t size = 0;
  std::string mnemonic;  // "rep movsb"
  std::string text;      // "rep movsb byte ptr [rdi], byte ptr [rsi]"
  VectorEncoding encoding = VectorEncoding::kLegacy;
  EvexPrefix evex;  // valid when encoding == kEvex
  cs_x86 x86{};     // prefixes, opcode, operands

  uint64_t next_rip() const { return address + size; }
  std::span<const cs_x86_op> operands() const { return {x86.operands, x86.op_count}; }
};

// Owns one Capstone handle (x86-64, detail on) and its instruction buffer.
class X86Decoder {
 public:
  X86Decoder();
  ~X86Decoder();
  X86Decoder(const X86Decoder&) = delete;
  X86Decoder& operator=(const X86Decoder&) = delete;

  // False when Capstone could not be opened (a library built without x86).
  bool ok() const { return insn_ != nullptr; }
  const char* register_name(unsigned reg) const;

  // The first instruction of `code`, as if it sat at `address`; nullopt if it does not decode.
  std::optional<DecodedInsn> decode(std::span<const uint8_t> code, uint64_t address);

 private:
  csh handle_ = 0;
  cs_insn* insn_ = nullptr;  // cs_malloc'd once, reused by cs_disasm_iter
};

// The calling thread's decoder, opened on first use and closed at thread exit.
X86Decoder& thread_decoder();

}  // namespace vsyscall
