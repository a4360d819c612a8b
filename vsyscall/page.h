// The legacy vsyscall page: its address, its three entries and the bytes a read of it returns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vsyscall {

inline constexpr uint64_t kPageBase = 0xffffffffff600000ULL;
inline constexpr uint64_t kPageSize = 0x1000;
inline constexpr uint64_t kPageEnd = kPageBase + kPageSize;
inline constexpr uint64_t kEntryStride = 0x400;
// Length of `mov $nr,%rax; syscall; ret` at each entry.
inline constexpr uint64_t kEntryCodeSize = 10;
// Offset of the `syscall` instruction's end inside an entry: rcx after a native call.
inline constexpr uint64_t kSyscallEndOffset = 9;

enum class Entry : uint8_t { kGettimeofday = 0, kTime = 1, kGetcpu = 2 };
inline constexpr std::array<Entry, 3> kAllEntries = {Entry::kGettimeofday, Entry::kTime,
                                                     Entry::kGetcpu};

constexpr bool in_page(uint64_t addr) {
  return addr >= kPageBase && addr < kPageEnd;
}

constexpr uint64_t entry_address(Entry e) {
  return kPageBase + static_cast<uint64_t>(e) * kEntryStride;
}

// The entry that starts exactly at addr; misaligned addresses have none.
constexpr std::optional<Entry> entry_at(uint64_t addr) {
  for (Entry e : kAllEntries) {
    if (entry_address(e) == addr) return e;
  }
  return std::nullopt;
}

// The x86-64 syscall the kernel runs for an entry (and that seccomp sees).
constexpr int syscall_number(Entry e) {
  switch (e) {
    case Entry::kGettimeofday:
      return 96;
    case Entry::kTime:
      return 201;
    case Entry::kGetcpu:
      return 309;
  }
  return -1;
}

constexpr std::optional<Entry> entry_for_syscall(long nr) {
  for (Entry e : kAllEntries) {
    if (syscall_number(e) == nr) return e;
  }
  return std::nullopt;
}

std::string_view entry_name(Entry e);

// What a data read of the page returns in `emulate`/`native` mode: at each entry
// `48 c7 c0 NN NN 00 00 0f 05 c3`, every other byte 0xcc (DESIGN.md 3.3).
const std::array<uint8_t, kPageSize>& page_image();

}  // namespace vsyscall
