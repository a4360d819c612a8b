// Capstone (version 4) for the report and for recovering what a caller did: an owned handle,
// opened on first use (most runs never decode anything: no start-up cost for them), and the
// few queries the engine needs.
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace emulator {

class Disassembler {
 public:
  Disassembler() = default;
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

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

 private:
  // Opens the handle the first time; false if Capstone cannot (then every decode fails).
  bool open();

  csh handle_ = 0;
  bool tried_ = false;
  bool ok_ = false;
};

}  // namespace emulator
