// Recognises the code that made a call to a vsyscall entry, from its return address, and says
// which bytes to rewrite so that the call goes elsewhere (a trampoline) and stops being traced.
// Pure: it reads the program through vsyscall::Memory and confirms every candidate with
// Capstone; the patcher in emulator/ writes the bytes.
//
// Forms, as legacy code has them (E = the entry that was called):
//   mov $E,%reg; call *%reg       7-byte sign-extended imm32 (glibc's, Go's), any register
//   movabs $E,%reg; call *%reg    10-byte imm64
//   mov mem,%reg; call *%reg      a data word holding E (Go's vdsoGettimeofdaySym)
//   call *mem                     RIP-relative or absolute, the word holding E (IFUNC pointers)
//   call rel32                    straight into the page (reachable from the low 2 GiB)
// and the same with jmp as a tail call in a function the return address's call went to
// (glibc's `time: mov $E,%rax; jmp *%rax`), followed through a direct call, a PLT-style
// `jmp *mem` and a `jmp rel32`. Only the operand is rewritten: the instruction keeps its
// length, so nothing else in the program moves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vsyscall/memory.h"

namespace vsyscall {

struct CallSite {
  enum class Field {
    kImm32,  // a sign-extended 32-bit immediate: the target must be below 2 GiB
    kImm64,  // a 64-bit immediate
    kRel32,  // a displacement from `rel_base`: the target must be within +-2 GiB of it
    kWord,   // an 8-byte data word the call reads its target from
  };
  Field field = Field::kImm32;
  uint64_t field_addr = 0;  // where the rewritten bytes go
  uint64_t rel_base = 0;    // kRel32: the address after the instruction
  uint64_t insn_addr = 0;   // the instruction that holds or reads the field
  bool tail_call = false;   // a jmp in a function called from the return address
  std::string form;         // "mov rax, 0xffffffffff600000; call rax", for the report

  size_t field_size() const { return field == Field::kImm32 || field == Field::kRel32 ? 4 : 8; }
};

// The site of a call to `entry_addr` that returns to `return_address`, or nullopt with the
// reason in *why.
std::optional<CallSite> find_call_site(Memory& mem, uint64_t return_address, uint64_t entry_addr,
                                       std::string* why);

// The field's bytes when it leads to `target`, or nullopt if the form cannot reach it (imm32
// above 2 GiB, rel32 out of range).
std::optional<std::vector<uint8_t>> call_site_field(const CallSite& site, uint64_t target);

}  // namespace vsyscall
