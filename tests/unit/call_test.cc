// Tests perform_call() in both flavors against the kernel's emulate_vsyscall() and the page's
// own `mov $nr,%rax; syscall; ret` (DESIGN.md 3.4).
#include "vsyscall/call.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace vsyscall {
namespace {

constexpr uint64_t kStack = 0x7ffd0000;
constexpr uint64_t kCaller = 0x401234;
constexpr uint64_t kBuf = 0x600000;
constexpr uint64_t kUnmapped = 0x700000;
constexpr uint64_t kKernelPtr = 0xffff888000001000ULL;

class FakeMemory : public Memory {
 public:
  void map(uint64_t addr, uint64_t len) {
    for (uint64_t i = 0; i < len; ++i) bytes_[addr + i] = 0;
  }
  template <typename T>
  void put(uint64_t addr, const T& v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (size_t i = 0; i < sizeof(T); ++i) bytes_[addr + i] = b[i];
  }
  template <typename T>
  T get(uint64_t addr) const {
    uint8_t b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = bytes_.at(addr + i);
    T v;
    std::memcpy(&v, b, sizeof(T));
    return v;
  }
  bool read(uint64_t addr, std::span<uint8_t> out) override {
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes_.find(addr + i);
      if (it == bytes_.end()) return false;
      out[i] = it->second;
    }
    return true;
  }
  bool write(uint64_t addr, std::span<const uint8_t> in) override {
    for (size_t i = 0; i < in.size(); ++i) {
      if (!bytes_.count(addr + i)) return false;
    }
    for (size_t i = 0; i < in.size(); ++i) bytes_[addr + i] = in[i];
    ++writes;
    return true;
  }
  std::map<uint64_t, uint8_t> bytes_;
  int writes = 0;
};

class FakeTime : public TimeSource {
 public:
  timespec realtime() override { return {1700000000, 123456789}; }
  struct timezone timezone() override {
    return {-60, 1};
  }
  unsigned cpu() override { return 3; }
  unsigned node() override { return 1; }
};

struct Fixture {
  FakeMemory mem;
  FakeTime time;
  Gpr regs{};
  Fixture(Entry e) {
    mem.map(kStack - 0x100, 0x200);
    mem.put<uint64_t>(kStack, kCaller);
    mem.map(kBuf, 0x100);
    regs.rip = entry_address(e);
    regs.rsp = kStack;
    regs.rax = static_cast<uint64_t>(-ENOSYS);
    regs.rcx = 0xc1c1c1c1;
    regs.r11 = 0xb1b1b1b1;
    regs.rdx = 0xd1d1d1d1;
    regs.eflags = 0x246;
  }
};

bool same_regs(const Gpr& a, const Gpr& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(Call, EmulatedGettimeofdayWritesResultsAndOnlyChangesRaxRipRsp) {
  Fixture f(Entry::kGettimeofday);
  f.regs.rdi = kBuf;
  f.regs.rsi = kBuf + 0x20;
  Gpr want = f.regs;
  const CallOutcome out =
      perform_call(Entry::kGettimeofday, f.regs, f.mem, f.time, CallFlavor::kEmulated);
  ASSERT_EQ(out.kind, CallOutcome::Kind::kReturned);
  EXPECT_EQ(out.result, 0);
  EXPECT_EQ(f.mem.get<int64_t>(kBuf), 1700000000);
  EXPECT_EQ(f.mem.get<int64_t>(kBuf + 8), 123456);
  EXPECT_EQ(f.mem.get<int32_t>(kBuf + 0x20), -60);
  EXPECT_EQ(f.mem.get<int32_t>(kBuf + 0x24), 1);
  want.rax = 0;
  want.rip = kCaller;
  want.rsp = kStack + 8;
  EXPECT_TRUE(same_regs(f.regs, want));  // rcx, r11, rdx, flags preserved
}

TEST(Call, EmulatedNullPointersAreAcceptedAndNothingIsWritten) {
  for (Entry e : kAllEntries) {
    Fixture f(e);
    f.regs.rdi = 0;
    f.regs.rsi = 0;
    const CallOutcome out = perform_call(e, f.regs, f.mem, f.time, CallFlavor::kEmulated);
    EXPECT_EQ(out.kind, CallOutcome::Kind::kReturned) << entry_name(e);
    EXPECT_EQ(f.mem.writes, 0) << entry_name(e);
    EXPECT_EQ(f.regs.rip, kCaller);
    EXPECT_EQ(f.regs.rax, e == Entry::kTime ? 1700000000u : 0u) << entry_name(e);
  }
}

TEST(Call, EmulatedTimeStoresAndReturnsSeconds) {
  Fixture f(Entry::kTime);
  f.regs.rdi = kBuf;
  const CallOutcome out = perform_call(Entry::kTime, f.regs, f.mem, f.time, CallFlavor::kEmulated);
  ASSERT_EQ(out.kind, CallOutcome::Kind::kReturned);
  EXPECT_EQ(out.result, 1700000000);
  EXPECT_EQ(f.mem.get<int64_t>(kBuf), 1700000000);
}

TEST(Call, GetcpuIgnoresItsThirdArgumentInBothFlavors) {
  for (CallFlavor flavor : {CallFlavor::kEmulated, CallFlavor::kNative}) {
    Fixture f(Entry::kGetcpu);
    f.regs.rdi = kBuf;
    f.regs.rsi = kBuf + 4;
    f.regs.rdx = kKernelPtr;  // would be a bad pointer if it were used
    const CallOutcome out = perform_call(Entry::kGetcpu, f.regs, f.mem, f.time, flavor);
    ASSERT_EQ(out.kind, CallOutcome::Kind::kReturned);
    EXPECT_EQ(out.result, 0);
    EXPECT_EQ(f.regs.rdx, kKernelPtr);
    EXPECT_EQ(f.mem.get<uint32_t>(kBuf), 3u);
    EXPECT_EQ(f.mem.get<uint32_t>(kBuf + 4), 1u);
  }
}

TEST(Call, EmulatedKernelPointerIsMaperrAtThatPointerWithRegistersUntouched) {
  struct Case {
    Entry e;
    uint64_t rdi, rsi, bad;
  };
  const Case cases[] = {
      {Entry::kGettimeofday, kKernelPtr, kBuf, kKernelPtr},
      {Entry::kGettimeofday, kBuf, kKernelPtr + 8, kKernelPtr + 8},
      {Entry::kTime, kKernelPtr, 0, kKernelPtr},
      {Entry::kGetcpu, kBuf, kKernelPtr, kKernelPtr},
      {Entry::kGetcpu, kUserSpaceEnd + 1, kBuf, kUserSpaceEnd + 1},
  };
  for (const Case& c : cases) {
    Fixture f(c.e);
    f.regs.rdi = c.rdi;
    f.regs.rsi = c.rsi;
    const Gpr before = f.regs;
    const CallOutcome out = perform_call(c.e, f.regs, f.mem, f.time, CallFlavor::kEmulated);
    EXPECT_EQ(out.kind, CallOutcome::Kind::kSigsegvMaperr) << entry_name(c.e);
    EXPECT_EQ(out.fault_addr, c.bad) << entry_name(c.e);
    EXPECT_TRUE(same_regs(f.regs, before)) << entry_name(c.e);
    EXPECT_EQ(f.mem.writes, 0) << "the checks come before the syscall: " << entry_name(c.e);
  }
}

TEST(Call, EmulatedPointerAtTheUserLimitPassesAccessOkThenFaults) {
  // access_ok() checks only the start for small sizes (Linux >= 6.12): the timeval at
  // kUserSpaceEnd - 8 passes the check, the copy faults, and the kernel answers SI_KERNEL.
  Fixture f(Entry::kGettimeofday);
  f.regs.rdi = kUserSpaceEnd - 8;
  f.regs.rsi = 0;
  const CallOutcome out =
      perform_call(Entry::kGettimeofday, f.regs, f.mem, f.time, CallFlavor::kEmulated);
  EXPECT_EQ(out.kind, CallOutcome::Kind::kSigsegvKernel);
}

TEST(Call, EmulatedUnwritableUserPointerIsSigsegvKernel) {
  for (Entry e : kAllEntries) {
    Fixture f(e);
    f.regs.rdi = kUnmapped;
    f.regs.rsi = 0;
    const Gpr before = f.regs;
    const CallOutcome out = perform_call(e, f.regs, f.mem, f.time, CallFlavor::kEmulated);
    EXPECT_EQ(out.kind, CallOutcome::Kind::kSigsegvKernel) << entry_name(e);
    EXPECT_TRUE(same_regs(f.regs, before)) << entry_name(e);
  }
}

TEST(Call, EmulatedGetcpuStillWritesNodeWhenCpuPointerFaults) {
  // sys_getcpu() attempts both copies before returning -EFAULT.
  Fixture f(Entry::kGetcpu);
  f.regs.rdi = kUnmapped;
  f.regs.rsi = kBuf;
  const CallOutcome out =
      perform_call(Entry::kGetcpu, f.regs, f.mem, f.time, CallFlavor::kEmulated);
  EXPECT_EQ(out.kind, CallOutcome::Kind::kSigsegvKernel);
  EXPECT_EQ(f.mem.get<uint32_t>(kBuf), 1u);
}

TEST(Call, EmulatedUnreadableStackIsSigsegvKernelBeforePointerChecks) {
  Fixture f(Entry::kTime);
  f.regs.rsp = kUnmapped;
  f.regs.rdi = kKernelPtr;  // would be SEGV_MAPERR, but the stack is read first
  const Gpr before = f.regs;
  const CallOutcome out = perform_call(Entry::kTime, f.regs, f.mem, f.time, CallFlavor::kEmulated);
  EXPECT_EQ(out.kind, CallOutcome::Kind::kSigsegvKernel);
  EXPECT_TRUE(same_regs(f.regs, before));
}

TEST(Call, NativeSuccessClobbersRcxAndR11LikeSyscall) {
  Fixture f(Entry::kGettimeofday);
  f.regs.rdi = kBuf;
  f.regs.rsi = 0;
  Gpr want = f.regs;
  const CallOutcome out =
      perform_call(Entry::kGettimeofday, f.regs, f.mem, f.time, CallFlavor::kNative);
  ASSERT_EQ(out.kind, CallOutcome::Kind::kReturned);
  want.rax = 0;
  want.rcx = kPageBase + 9;
  want.r11 = 0x246;
  want.rip = kCaller;
  want.rsp = kStack + 8;
  EXPECT_TRUE(same_regs(f.regs, want));
  EXPECT_EQ(f.mem.get<int64_t>(kBuf), 1700000000);
}

TEST(Call, NativeNullPointersAreAccepted) {
  for (Entry e : kAllEntries) {
    Fixture f(e);
    const CallOutcome out = perform_call(e, f.regs, f.mem, f.time, CallFlavor::kNative);
    EXPECT_EQ(out.kind, CallOutcome::Kind::kReturned) << entry_name(e);
    EXPECT_EQ(f.mem.writes, 0) << entry_name(e);
    EXPECT_EQ(f.regs.rcx, entry_address(e) + 9) << entry_name(e);
  }
}

TEST(Call, NativeKernelPointerReturnsEfault) {
  for (Entry e : kAllEntries) {
    Fixture f(e);
    f.regs.rdi = kKernelPtr;
    const CallOutcome out = perform_call(e, f.regs, f.mem, f.time, CallFlavor::kNative);
    EXPECT_EQ(out.kind, CallOutcome::Kind::kReturned) << entry_name(e);
    EXPECT_EQ(out.result, -EFAULT) << entry_name(e);
    EXPECT_EQ(f.regs.rax, static_cast<uint64_t>(-EFAULT)) << entry_name(e);
    EXPECT_EQ(f.regs.rip, kCaller) << entry_name(e);
    EXPECT_EQ(f.mem.writes, 0) << entry_name(e);
  }
}

TEST(Call, NativeGettimeofdayWritesTimevalBeforeFailingOnTimezone) {
  Fixture f(Entry::kGettimeofday);
  f.regs.rdi = kBuf;
  f.regs.rsi = kKernelPtr;
  const CallOutcome out =
      perform_call(Entry::kGettimeofday, f.regs, f.mem, f.time, CallFlavor::kNative);
  EXPECT_EQ(out.result, -EFAULT);
  EXPECT_EQ(f.mem.get<int64_t>(kBuf), 1700000000);
}

TEST(Call, NativeBadStackFaultsAtTheRetAfterTheSyscall) {
  Fixture f(Entry::kTime);
  f.regs.rsp = kUnmapped;
  f.regs.rdi = kBuf;
  const CallOutcome out = perform_call(Entry::kTime, f.regs, f.mem, f.time, CallFlavor::kNative);
  EXPECT_EQ(out.kind, CallOutcome::Kind::kSigsegvMaperr);
  EXPECT_EQ(out.fault_addr, kUnmapped);
  EXPECT_EQ(f.regs.rip, kPageBase + 0x400 + 9);
  EXPECT_EQ(f.regs.rsp, kUnmapped);
  EXPECT_EQ(f.regs.rax, 1700000000u);  // the syscall ran
  EXPECT_EQ(f.mem.get<int64_t>(kBuf), 1700000000);
}

}  // namespace
}  // namespace vsyscall
