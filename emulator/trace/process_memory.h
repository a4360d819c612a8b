// Access to a tracee's memory with process_vm_readv/writev (falls back to /proc/PID/mem for
// reads of pages that are not readable through the VM interface, like execute-only code).
#pragma once

#include <sys/types.h>

#include <optional>

#include "vsyscall/memory.h"

namespace emulator {

class ProcessMemory final : public vsyscall::Memory {
 public:
  explicit ProcessMemory(pid_t tid) : tid_(tid) {}
  bool read(uint64_t addr, std::span<uint8_t> out) override;
  bool write(uint64_t addr, std::span<const uint8_t> in) override;
  // Writes even to read-only mappings (like a debugger), for restoring borrowed bytes.
  bool poke(uint64_t addr, std::span<const uint8_t> in);
  // One 64-bit word (a return address on the stack, say); nullopt if unreadable.
  std::optional<uint64_t> read_u64(uint64_t addr);
  // Reads as much as is readable from addr; returns the count.
  size_t read_partial(uint64_t addr, std::span<uint8_t> out);

 private:
  pid_t tid_;
};

}  // namespace emulator
