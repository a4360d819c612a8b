#include "vsyscall/trampoline.h"

#include <cstring>

extern "C" {
extern const uint8_t vsyscall_trampoline_template[];
extern const uint8_t vsyscall_trampoline_template_end[];
extern const uint32_t vsyscall_trampoline_offsets[];
}

namespace vsyscall {
namespace {

// The order of vsyscall_trampoline_offsets in trampoline_template.S.
enum Offset : size_t {
  kSlotGettimeofday,
  kSlotTime,
  kSlotGetcpu,
  kEmulatedGettimeofday,
  kEmulatedTime,
  kEmulatedGetcpu,
  kNativeGettimeofday,
  kNativeTime,
  kNativeGetcpu,
  kCopyGettimeofdaySec,
  kCopyGettimeofdayUsec,
  kCopyGettimeofdayTz,
  kCopyTime,
  kCopyGetcpuCpu,
  kCopyGetcpuNode,
  kResetTrap,
  kResetTrapDivide,
};

uint64_t offset_of(Offset o) {
  return vsyscall_trampoline_offsets[o];
}

uint64_t routine(Entry e, TrampolineFlavor f) {
  const size_t base = f == TrampolineFlavor::kNative ? kNativeGettimeofday : kEmulatedGettimeofday;
  return offset_of(static_cast<Offset>(base + static_cast<size_t>(e)));
}

void put32(uint8_t* p, int64_t v) {
  const auto w = static_cast<uint32_t>(static_cast<int32_t>(v));
  std::memcpy(p, &w, 4);
}

// Frame words from rsp at a copy (trampoline_template.S): four words of buffers, then the
// registers the routine saved.
enum Frame : size_t {
  kBuffers = 4,
  kR11 = kBuffers,
  kR10,
  kR9,
  kR8,
  kRdi,
  kRsi,
  kRdx,
  kRcx,
  kRax,
  kRflags,
  kReturn
};
static_assert(kReturn + 1 == kTrampolineFrameWords);

}  // namespace

std::vector<uint8_t> trampoline_page(const VdsoFunctions& fns) {
  const size_t size = static_cast<size_t>(vsyscall_trampoline_template_end - vsyscall_trampoline_template);
  std::vector<uint8_t> page(kTrampolineCodeSize, 0xcc);
  std::memcpy(page.data(), vsyscall_trampoline_template, size);
  std::memcpy(page.data() + offset_of(kSlotGettimeofday), &fns.gettimeofday, 8);
  std::memcpy(page.data() + offset_of(kSlotTime), &fns.time, 8);
  std::memcpy(page.data() + offset_of(kSlotGetcpu), &fns.getcpu, 8);
  return page;
}

std::array<uint8_t, kTrampolineStubSize> trampoline_stub(uint64_t page, size_t index, Entry entry,
                                                         TrampolineFlavor flavor, uint64_t counter,
                                                         bool atomic) {
  std::array<uint8_t, kTrampolineStubSize> s;
  s.fill(0xcc);
  const uint64_t at = page + trampoline_stub_offset(index);
  size_t n = 0;
  s[n++] = 0x9c;  // pushfq
  // lock incq counter(%rip): f0 48 ff 05 disp32, disp from the end of this 8-byte instruction
  // (or nop; incq: 90 48 ff 05 disp32, which ends at the same place).
  static_assert(kTrampolineStubLockOffset == 1);
  s[n++] = atomic ? kLockPrefix : 0x90;
  s[n++] = 0x48;
  s[n++] = 0xff;
  s[n++] = 0x05;
  put32(&s[n], static_cast<int64_t>(counter - (at + n + 4)));
  n += 4;
  if (flavor == TrampolineFlavor::kNative) s[n++] = 0x9d;  // popfq: the page's code has no frame
  s[n++] = 0xe9;  // jmp rel32
  put32(&s[n], static_cast<int64_t>(page + routine(entry, flavor) - (at + n + 4)));
  return s;
}

uint64_t trampoline_reset_trap_offset() {
  return offset_of(kResetTrap);
}

uint64_t trampoline_reset_divide_offset() {
  return offset_of(kResetTrapDivide);
}

std::optional<Entry> trampoline_copy_entry(uint64_t offset) {
  if (offset == offset_of(kCopyGettimeofdaySec) || offset == offset_of(kCopyGettimeofdayUsec) ||
      offset == offset_of(kCopyGettimeofdayTz))
    return Entry::kGettimeofday;
  if (offset == offset_of(kCopyTime)) return Entry::kTime;
  if (offset == offset_of(kCopyGetcpuCpu) || offset == offset_of(kCopyGetcpuNode))
    return Entry::kGetcpu;
  return std::nullopt;
}

Gpr trampoline_rewind(const Gpr& at_fault, std::span<const uint64_t, kTrampolineFrameWords> frame,
                      Entry entry, uint64_t stub) {
  Gpr g = at_fault;
  g.r11 = frame[kR11];
  g.r10 = frame[kR10];
  g.r9 = frame[kR9];
  g.r8 = frame[kR8];
  g.rdi = frame[kRdi];
  g.rsi = frame[kRsi];
  g.rdx = frame[kRdx];
  g.rcx = frame[kRcx];
  g.rax = stub != 0 && frame[kRax] == stub ? entry_address(entry) : frame[kRax];
  g.eflags = frame[kRflags];
  g.rsp = at_fault.rsp + kReturn * 8;
  g.rip = entry_address(entry);
  return g;
}

}  // namespace vsyscall
