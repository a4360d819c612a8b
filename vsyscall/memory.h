// The one way vsyscall/ touches a program's memory: an interface the engine implements.
#pragma once

#include <cstdint>
#include <span>

namespace vsyscall {

// Reads and writes the memory of the program being emulated. Each call is all-or-nothing:
// false means some byte of the range was not accessible (the program would have faulted).
class Memory {
 public:
  virtual ~Memory() = default;
  virtual bool read(uint64_t addr, std::span<uint8_t> out) = 0;
  virtual bool write(uint64_t addr, std::span<const uint8_t> in) = 0;
};

// Highest user-space address + 1 on x86-64 with 4-level paging (TASK_SIZE_MAX).
// The kernel's access_ok() rejects any range that reaches past it.
inline constexpr uint64_t kUserSpaceEnd = 0x00007ffffffff000ULL;

constexpr bool user_range_ok(uint64_t addr, uint64_t size) {
  return addr <= kUserSpaceEnd && size <= kUserSpaceEnd - addr;
}

}  // namespace vsyscall
