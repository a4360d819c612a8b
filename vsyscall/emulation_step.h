// One emulate_read() in progress: the decoded instruction, a scratch copy of the CPU state that
// replaces the real one only if every access succeeds, memory reads from the page image or the
// program, and the writes to carry out at the end.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "vsyscall/cpu_state.h"
#include "vsyscall/memory.h"
#include "vsyscall/page.h"
#include "vsyscall/read_emulation.h"
#include "vsyscall/x86_decoder.h"

namespace vsyscall {

class EmulationStep {
 public:
  EmulationStep(const DecodedInsn& insn, const CpuState& state, Memory& mem, ReadEmulation& result);

  const DecodedInsn& insn() const { return insn_; }
  const cs_x86& x86() const { return insn_.x86; }
  // Registers as they were when the instruction started (for addresses).
  const CpuState& before() const { return before_; }
  // The scratch state handlers update.
  CpuState& next() { return next_; }
  Gpr& gpr() { return next_.gpr; }

  // Linear address of a memory operand: fs/gs base (other segments have base 0 in 64-bit
  // mode) + base + index*scale + disp, rip-relative from the next instruction, truncated to
  // 32 bits under an address-size prefix before the segment base is added.
  uint64_t address_of(const x86_op_mem& m) const;
  uint64_t segment_base(unsigned seg) const;

  // Reads out.size() bytes at a linear address: from the page image inside the page, from the
  // program through Memory below kUserSpaceEnd, a fault anywhere else. On failure records
  // kFault at the first byte that could not be read and returns false.
  bool read(uint64_t addr, std::span<uint8_t> out);
  // Little-endian integer of `width` (1..8) bytes.
  bool read_uint(uint64_t addr, unsigned width, uint64_t& value);

  // Queues a write to user memory, done by commit(). `descending` writes the highest 4 KiB
  // piece first (a DF=1 string store) so that a fault leaves what the CPU would have left.
  // Returns false (kFault) if the range is not user memory.
  bool write(uint64_t addr, std::vector<uint8_t> bytes, bool descending = false);

  // Writes `bytes` (16 or 32) to vector register `index`: legacy SSE keeps bits 255:128 of a
  // 16-byte write, VEX zeroes everything above what it writes.
  void write_vector(unsigned index, std::span<const uint8_t> bytes, VectorEncoding enc);
  std::array<uint8_t, 32>& vector(unsigned index) { return next_.vec.ymm[index]; }

  // The whole zmm register 0..31 (needs CpuState::have_avx512), and its replacement: EVEX
  // writes all 512 bits, zeroing above the vector length.
  using Zmm = std::array<uint8_t, 64>;
  Zmm zmm(unsigned index) const;
  void write_zmm(unsigned index, const Zmm& value);
  // Opmask register k0..k7 (needs CpuState::have_avx512).
  void write_mask(unsigned index, uint64_t value);

  void set_arith_flags(uint64_t flags);

  // Stop the step; both return false so that a handler can `return step.unsupported(...)`.
  bool unsupported(std::string reason);
  bool fault(uint64_t addr);

  // Carries out the queued writes, then copies the scratch state (rip advanced) to `state`
  // and marks the result kDone. False (kFault) if a write failed; `state` is then untouched.
  bool commit(CpuState& state);

 private:
  bool read_user(uint64_t addr, std::span<uint8_t> out);

  struct PendingWrite {
    uint64_t addr;
    std::vector<uint8_t> bytes;
    bool descending;
  };

  const DecodedInsn& insn_;
  const CpuState& before_;
  CpuState next_;
  Memory& mem_;
  ReadEmulation& result_;
  std::vector<PendingWrite> writes_;
  // 4 KiB pages of user memory read so far: a repe cmpsb against a user buffer reads each
  // page once instead of once per byte.
  std::map<uint64_t, std::vector<uint8_t>> user_pages_;
  bool vector_changed_ = false;
  uint16_t zmm_upper_zeroed_ = 0;
};

// [addr, addr + size) overlaps the vsyscall page.
constexpr bool touches_page(uint64_t addr, uint64_t size) {
  return addr < kPageEnd && addr + (size == 0 ? 1 : size) > kPageBase;
}

}  // namespace vsyscall
