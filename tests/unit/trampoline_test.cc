// vsyscall/trampoline: the page and stub bytes, run for real in this process against stand-in
// vDSO functions, and the rewind of a call that faulted on a copy.
#include "vsyscall/trampoline.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/time.h>

#include <cstring>
#include <vector>

namespace vsyscall {
namespace {

extern "C" int fake_gettimeofday(struct timeval* tv, struct timezone* tz) {
  tv->tv_sec = 1234567890;
  tv->tv_usec = 654321;
  tz->tz_minuteswest = -60;
  tz->tz_dsttime = 1;
  return 0;
}
extern "C" long fake_time(long* t) {
  if (t) *t = 999;  // the trampoline passes NULL and copies the result itself
  return 1700000000;
}
extern "C" long fake_getcpu(unsigned* cpu, unsigned* node, void*) {
  *cpu = 7;
  *node = 3;
  return 0;
}

// A trampoline page and its counters, mapped in this process.
class Mapped {
 public:
  explicit Mapped(TrampolineFlavor flavor) : flavor_(flavor) {
    void* p = mmap(nullptr, kTrampolineCodeSize + 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = static_cast<uint8_t*>(p);
    const auto page = trampoline_page({reinterpret_cast<uint64_t>(&fake_gettimeofday),
                                       reinterpret_cast<uint64_t>(&fake_time),
                                       reinterpret_cast<uint64_t>(&fake_getcpu)});
    std::memcpy(base_, page.data(), page.size());
  }
  ~Mapped() { munmap(base_, kTrampolineCodeSize + 4096); }
  uint64_t addr() const { return reinterpret_cast<uint64_t>(base_); }
  uint64_t* counter(size_t i) { return reinterpret_cast<uint64_t*>(base_ + kTrampolineCodeSize) + i; }
  // Writes stub i for `entry` and makes the code executable; returns its address.
  uint64_t stub(size_t i, Entry entry, bool atomic) {
    mprotect(base_, kTrampolineCodeSize, PROT_READ | PROT_WRITE);
    const auto s = trampoline_stub(addr(), i, entry, flavor_, reinterpret_cast<uint64_t>(counter(i)), atomic);
    std::memcpy(base_ + trampoline_stub_offset(i), s.data(), s.size());
    mprotect(base_, kTrampolineCodeSize, PROT_READ | PROT_EXEC);
    return addr() + trampoline_stub_offset(i);
  }

 private:
  TrampolineFlavor flavor_;
  uint8_t* base_ = nullptr;
};

TEST(Trampoline, EmulatedStubsCallTheVdsoCopyOutAndCount) {
  Mapped t(TrampolineFlavor::kEmulated);
  auto gtod = reinterpret_cast<long (*)(struct timeval*, struct timezone*)>(t.stub(0, Entry::kGettimeofday, false));
  auto time = reinterpret_cast<long (*)(long*)>(t.stub(1, Entry::kTime, true));
  auto getcpu = reinterpret_cast<long (*)(unsigned*, unsigned*, void*)>(t.stub(2, Entry::kGetcpu, false));
  struct timeval tv {};
  struct timezone tz {};
  EXPECT_EQ(gtod(&tv, &tz), 0);
  EXPECT_EQ(tv.tv_sec, 1234567890);
  EXPECT_EQ(tv.tv_usec, 654321);
  EXPECT_EQ(tz.tz_minuteswest, -60);
  EXPECT_EQ(gtod(nullptr, nullptr), 0);  // NULL pointers: nothing written
  long tt = 0;
  EXPECT_EQ(time(&tt), 1700000000);
  EXPECT_EQ(tt, 1700000000);
  EXPECT_EQ(time(nullptr), 1700000000);
  unsigned cpu = 0, node = 0;
  EXPECT_EQ(getcpu(&cpu, &node, nullptr), 0);
  EXPECT_EQ(cpu, 7u);
  EXPECT_EQ(node, 3u);
  EXPECT_EQ(getcpu(nullptr, &node, nullptr), 0);
  EXPECT_EQ(*t.counter(0), 2u);
  EXPECT_EQ(*t.counter(1), 2u);
  EXPECT_EQ(*t.counter(2), 2u);
}

TEST(Trampoline, StubBytesDifferOnlyInTheLockPrefix) {
  const auto plain = trampoline_stub(0x7fff0000, 3, Entry::kTime, TrampolineFlavor::kEmulated, 0x7fff1018, false);
  const auto locked = trampoline_stub(0x7fff0000, 3, Entry::kTime, TrampolineFlavor::kEmulated, 0x7fff1018, true);
  EXPECT_EQ(plain[0], 0x9c);  // pushfq
  EXPECT_EQ(plain[kTrampolineStubLockOffset], 0x90);
  EXPECT_EQ(locked[kTrampolineStubLockOffset], kLockPrefix);
  for (size_t i = 0; i < plain.size(); ++i)
    if (i != kTrampolineStubLockOffset) {
      EXPECT_EQ(plain[i], locked[i]) << i;
    }
  // pushfq (1), prefix (1), 48 ff 05 disp32: the counter is reached from byte 9.
  int32_t disp;
  std::memcpy(&disp, &plain[5], 4);
  EXPECT_EQ(0x7fff0000 + trampoline_stub_offset(3) + 9 + disp, 0x7fff1018u);
}

TEST(Trampoline, NativeStubsRunThePagesCode) {
  // The page's own `mov $nr,%rax; syscall`: a real time(2) here, rcx as the page leaves it.
  Mapped t(TrampolineFlavor::kNative);
  auto time = reinterpret_cast<long (*)(long*)>(t.stub(0, Entry::kTime, true));
  long tt = 0;
  const long r = time(&tt);
  EXPECT_EQ(r, tt);
  EXPECT_NEAR(static_cast<double>(r), static_cast<double>(::time(nullptr)), 2);
  EXPECT_EQ(*t.counter(0), 1u);
}

TEST(Trampoline, CopiesAreTheOnlyRewindPoints) {
  int copies = 0;
  for (uint64_t off = 0; off < kTrampolineCodeSize; ++off)
    if (trampoline_copy_entry(off)) ++copies;
  EXPECT_EQ(copies, 6);
  EXPECT_FALSE(trampoline_copy_entry(0));
  EXPECT_FALSE(trampoline_copy_entry(trampoline_stub_offset(0)));
}

TEST(Trampoline, TheResetTrapReadsZeroThenDividesByZero) {
  const auto page = trampoline_page({});
  const uint64_t at = trampoline_reset_trap_offset();
  ASSERT_LT(at + 6, kTrampolineStubsOffset);
  const std::vector<uint8_t> want = {0x31, 0xc9,   // xor %ecx,%ecx
                                     0x8b, 0x09,   // mov (%rcx),%ecx
                                     0xf7, 0xf1};  // div %ecx
  EXPECT_EQ(std::vector<uint8_t>(page.begin() + at, page.begin() + at + 6), want);
  EXPECT_EQ(trampoline_reset_divide_offset(), at + 4);
}

TEST(Trampoline, RewindRestoresTheCallAsMade) {
  Gpr at{};
  at.rsp = 0x7ffd0000;
  at.rax = 1;
  at.rbx = 0xb;
  std::array<uint64_t, kTrampolineFrameWords> f{};
  for (size_t i = 0; i < f.size(); ++i) f[i] = 0x100 + i;
  const uint64_t stub = 0x7fff0400;
  f[12] = stub;  // the caller loaded the stub into rax
  Gpr g = trampoline_rewind(at, f, Entry::kTime, stub);
  EXPECT_EQ(g.rip, entry_address(Entry::kTime));
  EXPECT_EQ(g.rsp, 0x7ffd0000u + 14 * 8);  // at the return address
  EXPECT_EQ(g.rax, entry_address(Entry::kTime));
  EXPECT_EQ(g.r11, 0x104u);
  EXPECT_EQ(g.rdi, 0x108u);
  EXPECT_EQ(g.rcx, 0x10bu);
  EXPECT_EQ(g.eflags, 0x10du);
  EXPECT_EQ(g.rbx, 0xbu);  // callee-saved registers were never touched
  f[12] = 0;
  EXPECT_EQ(trampoline_rewind(at, f, Entry::kTime, 0).rax, 0u);  // rax = 0 stays 0
}

}  // namespace
}  // namespace vsyscall
