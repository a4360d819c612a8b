// What the report and the engine ask of a calling or reading instruction, on top of the one
// Capstone wrapper (vsyscall/x86_decoder.h: a handle per thread, opened on first use, so
// runs that never decode anything pay nothing at start-up).
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace emulator {

class Disassembler {
 public:
  struct Insn {
    std::string text;  // "call rax"
    size_t size = 0;
    bool is_call = false;
    bool is_jump = false;
    // For `call reg` / `jmp reg`: the capstone register id, else X86_REG_INVALID.
    unsigned target_reg = X86_REG_INVALID;
  };

  // Decodes the first instruction of `code`, as if it were at `address`.
  std::optional<Insn> decode(std::span<const uint8_t> code, uint64_t address);

  // Finds the call instruction that ends exactly at `return_address`, given the bytes
  // before it (`before` ends at return_address).
  std::optional<Insn> call_before(std::span<const uint8_t> before, uint64_t return_address);
};

}  // namespace emulator
