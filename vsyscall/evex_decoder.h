// Decodes the AVX-512 (EVEX) instructions with a memory source that glibc's string functions
// use on the page. Capstone 4.0.2 cannot decode most of them (vpcmpub, vpcmpeqb to a mask
// register, vptestnmb, vpternlogd at ymm/zmm length) and reports wrong ids for others
// (vpcmpd with a predicate comes back as vpcmpeqd), so their meaning comes from this table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "vsyscall/x86_decoder.h"

namespace vsyscall {

enum class EvexKind {
  kLoad,     // vector register <- memory
  kCompare,  // k <- compare(first source, memory) per element
  kTest,     // k <- (first source & memory) != 0 per element (vptestm)
  kTestNot,  // k <- (first source & memory) == 0 per element (vptestnm)
  kPacked,   // vector <- op(first source, memory) per element
  kTernlog,  // vector <- bitwise imm8 function of (destination, first source, memory)
};

enum class EvexPackedOp { kNone, kXor, kOr, kAnd, kAndN, kMinU, kMaxU, kSub };

// vpcmp predicates (imm8 & 7), and the fixed one of vpcmpeq*/vpcmpgt*.
enum class EvexPredicate : uint8_t { kEq, kLt, kLe, kFalse, kNe, kGe, kGt, kTrue };

struct EvexOp {
  EvexKind kind = EvexKind::kLoad;
  unsigned element = 1;    // bytes per element: what one mask bit covers
  bool aligned = false;    // vmovdqa32/64, vmovaps/apd: #GP unless aligned to the length
  bool is_signed = false;  // compares
  EvexPredicate predicate = EvexPredicate::kEq;
  EvexPackedOp op = EvexPackedOp::kNone;
  uint8_t imm = 0;  // ternlog truth table
};

struct EvexDecoded {
  // Operands in Capstone's form (destination, [first source], memory, [imm]) so that the
  // generic address and page checks apply unchanged; id is X86_INS_INVALID.
  DecodedInsn insn;
  EvexOp op;
};

// The EVEX instruction at the start of `code` if it is one of the memory-source forms in the
// table; nullopt for anything else (register forms, stores, unknown opcodes, non-EVEX bytes).
std::optional<EvexDecoded> decode_evex(std::span<const uint8_t> code, uint64_t address);

}  // namespace vsyscall
