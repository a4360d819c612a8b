// The three families of instructions emulate_read() knows, each in its own file. A handler
// returns true after updating the step, or false after recording kUnsupported or kFault.
#pragma once

#include <cstdint>
#include <optional>

#include "vsyscall/emulation_step.h"
#include "vsyscall/evex_decoder.h"
#include "vsyscall/x86_decoder.h"

namespace vsyscall {

// read_integer.cc: mov/movabs/movzx/movsx/movsxd/movbe loads, cmp, test,
// add/adc/sub/sbb/and/or/xor into a register, push.
bool handles_integer(const DecodedInsn& insn);
bool emulate_integer(EmulationStep& step);

// read_string.cc: movs, cmps, lods, scas (stos, ins and outs only for the page-write check).
enum class StringKind { kMovs, kCmps, kStos, kLods, kScas, kIns, kOuts };
std::optional<StringKind> string_kind(const DecodedInsn& insn);

// The implicit operands of a string instruction: the first element each pointer addresses.
struct StringOperands {
  StringKind kind = StringKind::kMovs;
  unsigned width = 1;                   // element size in bytes
  uint64_t count = 1;                   // iterations: rcx under a rep prefix, else 1
  std::optional<uint64_t> source;       // [seg:rsi], read by movs, cmps, lods, outs
  std::optional<uint64_t> destination;  // es:[rdi], read by cmps and scas
  bool destination_written = false;     // movs, stos, ins
};
std::optional<StringOperands> string_operands(const EmulationStep& step);
bool emulate_string(EmulationStep& step);

// read_vector.cc: SSE/AVX loads and packed compares/logic with a memory source.
bool handles_vector(const DecodedInsn& insn);
bool emulate_vector(EmulationStep& step);
// read_evex.cc: the AVX-512 forms evex_decoder.h decodes, with opmask merging/zeroing and
// fault suppression for masked-off elements.
bool emulate_evex(EmulationStep& step, const EvexOp& op);

}  // namespace vsyscall
