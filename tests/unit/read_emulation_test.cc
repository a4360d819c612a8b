// Tests emulate_read() against hand-computed results with a fake program memory: widths,
// extensions, flags, string instructions, vector loads, faults, page writes and refusals.
// (read_emulation_native_test.cc checks the same semantics against the CPU itself.)
#include "vsyscall/read_emulation.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "vsyscall/page.h"

namespace vsyscall {
namespace {

constexpr uint64_t kRip = 0x401000;
constexpr uint64_t kUser = 0x10000;  // a mapped user buffer in the fake memory
using Code = std::vector<uint8_t>;
using Status = ReadEmulation::Status;

// Program memory as a map of bytes: a byte that is absent is unmapped.
class FakeMemory : public Memory {
 public:
  void map(uint64_t addr, uint64_t len, uint8_t fill = 0) {
    for (uint64_t i = 0; i < len; ++i) bytes_[addr + i] = fill;
  }
  void put(uint64_t addr, std::span<const uint8_t> in) {
    for (size_t i = 0; i < in.size(); ++i) bytes_[addr + i] = in[i];
  }
  uint8_t at(uint64_t addr) const { return bytes_.at(addr); }
  bool read(uint64_t addr, std::span<uint8_t> out) override {
    ++reads;
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes_.find(addr + i);
      if (it == bytes_.end()) return false;
      out[i] = it->second;
    }
    return true;
  }
  bool write(uint64_t addr, std::span<const uint8_t> in) override {
    ++writes;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!bytes_.count(addr + i)) return false;
    }
    put(addr, in);
    return true;
  }
  std::map<uint64_t, uint8_t> bytes_;
  int reads = 0;
  int writes = 0;
};

CpuState fresh_state() {
  CpuState s;
  s.gpr.rip = kRip;
  s.gpr.eflags = 0x202;
  s.have_avx = true;
  const uint64_t junk = 0x1122334455667788ULL;
  s.gpr.rax = s.gpr.rbx = s.gpr.rcx = s.gpr.rdx = junk;
  for (unsigned r = 0; r < 16; ++r) {
    for (unsigned b = 0; b < 32; ++b) s.vec.ymm[r][b] = static_cast<uint8_t>(0xa0 + r + b);
  }
  return s;
}

uint64_t image_uint(uint64_t off, unsigned width) {
  uint64_t v = 0;
  std::memcpy(&v, page_image().data() + off, width);
  return v;
}

uint64_t arith_flags(const CpuState& s) {
  return s.gpr.eflags & kArithFlags;
}

void expect_same_state(const CpuState& a, const CpuState& b) {
  EXPECT_EQ(std::memcmp(&a.gpr, &b.gpr, sizeof a.gpr), 0);
  EXPECT_EQ(a.vec.ymm, b.vec.ymm);
}

struct Outcome {
  ReadEmulation result;
  CpuState state;
};

Outcome run(const Code& code, CpuState state, Memory& mem) {
  Outcome r{{}, state};
  r.result = emulate_read(code, r.state, mem);
  return r;
}

TEST(ReadEmulation, QwordLoadReturnsPageBytesAndAdvancesRip) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase;
  const Outcome r = run({0x48, 0x8b, 0x07}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  EXPECT_EQ(r.state.gpr.rax, 0x0f00000060c0c748ULL);  // 48 c7 c0 60 00 00 00 0f
  EXPECT_EQ(r.state.gpr.rip, kRip + 3);
  EXPECT_EQ(r.result.instruction, "mov rax, qword ptr [rdi]");
  EXPECT_FALSE(r.result.vector_changed);
  EXPECT_EQ(mem.reads, 0);  // the page never goes through Memory
}

TEST(ReadEmulation, LoadWidthsFollowPartialRegisterRules) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase;
  s.gpr.rax = 0xffffffffffffffffULL;
  EXPECT_EQ(run({0x8b, 0x07}, s, mem).state.gpr.rax, 0x0000000060c0c748ULL);  // eax: zero-ext
  s.gpr.rax = 0x1122334455667788ULL;
  EXPECT_EQ(run({0x66, 0x8b, 0x07}, s, mem).state.gpr.rax, 0x112233445566c748ULL);  // ax
  EXPECT_EQ(run({0x8a, 0x07}, s, mem).state.gpr.rax, 0x1122334455667748ULL);        // al
  EXPECT_EQ(run({0x8a, 0x27}, s, mem).state.gpr.rax, 0x1122334455664888ULL);        // ah
}

TEST(ReadEmulation, MovsxSignExtendsAndMovzxZeroExtends) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase + 1;  // 0xc7
  EXPECT_EQ(run({0x48, 0x0f, 0xbe, 0x07}, s, mem).state.gpr.rax, 0xffffffffffffffc7ULL);
  EXPECT_EQ(run({0x0f, 0xb6, 0x07}, s, mem).state.gpr.rax, 0xc7ULL);
  s.gpr.rdi = kPageBase + 7;  // 0f 05 c3 cc
  EXPECT_EQ(run({0x48, 0x63, 0x07}, s, mem).state.gpr.rax, 0xffffffffccc3050fULL);
}

TEST(ReadEmulation, CmpFlagsDistinguishEqualBelowAndSignedOverflow) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase;  // 0x48
  s.gpr.eflags |= kFlagCF | kFlagOF;
  Outcome r = run({0x80, 0x3f, 0x48}, s, mem);  // cmp byte ptr [rdi], 0x48
  ASSERT_EQ(r.result.status, Status::kDone);
  EXPECT_EQ(arith_flags(r.state), kFlagZF | kFlagPF);
  EXPECT_EQ(r.state.gpr.eflags & ~kArithFlags, s.gpr.eflags & ~kArithFlags);

  r = run({0x80, 0x3f, 0x49}, s, mem);  // 0x48 - 0x49 = 0xff: borrow, negative
  EXPECT_EQ(arith_flags(r.state), kFlagCF | kFlagSF | kFlagAF | kFlagPF);

  s.gpr.rdi = kPageBase + 1;            // 0xc7 = -57
  r = run({0x80, 0x3f, 0x7f}, s, mem);  // -57 - 127 = -184: signed overflow, result 0x48
  EXPECT_EQ(arith_flags(r.state), kFlagOF | kFlagAF | kFlagPF);  // 7 - f borrows: AF
}

TEST(ReadEmulation, TestWithImmediateSetsSignAndClearsCarry) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase + 1;  // 0xc7
  s.gpr.eflags |= kFlagCF | kFlagOF | kFlagAF;
  const Outcome r = run({0xf6, 0x07, 0x80}, s, mem);  // test byte ptr [rdi], 0x80
  EXPECT_EQ(arith_flags(r.state), kFlagSF);           // 0x80: odd parity, so PF clear
}

TEST(ReadEmulation, AdcAddsTheCarryIn) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase;  // 0x48
  s.gpr.rax = 0xb7;
  s.gpr.eflags |= kFlagCF;
  const Outcome r = run({0x12, 0x07}, s, mem);  // adc al, [rdi]: 0x48 + 0xb7 + 1 = 0x100
  EXPECT_EQ(r.state.gpr.rax, 0u);
  EXPECT_EQ(arith_flags(r.state), kFlagCF | kFlagZF | kFlagAF | kFlagPF);
}

TEST(ReadEmulation, RipRelativeAndSegmentAndAbsoluteAddressing) {
  FakeMemory mem;
  CpuState s = fresh_state();
  // mov rax, [rip + disp32]: from rip 0x401000 the 32-bit displacement wraps to the page.
  const uint64_t target = kPageBase + 0x400;
  const auto disp = static_cast<uint32_t>(target - (kRip + 7));
  Code rip_rel = {0x48, 0x8b, 0x05};
  for (int i = 0; i < 4; ++i) rip_rel.push_back(static_cast<uint8_t>(disp >> (8 * i)));
  EXPECT_EQ(run(rip_rel, s, mem).state.gpr.rax, image_uint(0x400, 8));

  s.gpr.fs_base = kPageBase + 0x3f0;  // mov rax, fs:[0x10]
  EXPECT_EQ(run({0x64, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0}, s, mem).state.gpr.rax,
            image_uint(0x400, 8));
  // movabs rax, [0xffffffffff600800]
  EXPECT_EQ(run({0x48, 0xa1, 0x00, 0x08, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff}, s, mem).state.gpr.rax,
            image_uint(0x800, 8));
  // mov eax, fs:[edi]: the address-size prefix truncates edi before the segment base.
  s.gpr.fs_base = kPageBase;
  s.gpr.rdi = 0xffffffff00000803ULL;
  EXPECT_EQ(run({0x64, 0x67, 0x8b, 0x07}, s, mem).state.gpr.rax, image_uint(0x803, 4));
}

TEST(ReadEmulation, RepMovsbCopies32PageBytesToUserMemory) {
  FakeMemory mem;
  mem.map(kUser, 0x100, 0xee);
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase + 0x3f0;
  s.gpr.rdi = kUser + 0x10;
  s.gpr.rcx = 32;
  const Outcome r = run({0xf3, 0xa4}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  for (uint64_t i = 0; i < 32; ++i) EXPECT_EQ(mem.at(kUser + 0x10 + i), page_image()[0x3f0 + i]);
  EXPECT_EQ(mem.at(kUser + 0x0f), 0xee);
  EXPECT_EQ(mem.at(kUser + 0x30), 0xee);
  EXPECT_EQ(r.state.gpr.rsi, kPageBase + 0x410);
  EXPECT_EQ(r.state.gpr.rdi, kUser + 0x30);
  EXPECT_EQ(r.state.gpr.rcx, 0u);
  EXPECT_EQ(r.state.gpr.rip, kRip + 2);
}

TEST(ReadEmulation, RepMovsbWithDirectionFlagCopiesDownwards) {
  FakeMemory mem;
  mem.map(kUser, 0x100, 0xee);
  CpuState s = fresh_state();
  s.gpr.eflags |= kFlagDF;
  s.gpr.rsi = kPageBase + 0x409;  // the last byte of the time entry (c3)
  s.gpr.rdi = kUser + 0x40;
  s.gpr.rcx = 10;
  const Outcome r = run({0xf3, 0xa4}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(mem.at(kUser + 0x37 + i), page_image()[0x400 + i]);
  EXPECT_EQ(mem.at(kUser + 0x36), 0xee);
  EXPECT_EQ(r.state.gpr.rsi, kPageBase + 0x3ff);
  EXPECT_EQ(r.state.gpr.rdi, kUser + 0x36);
}

TEST(ReadEmulation, RepeCmpsbStopsAtFirstDifference) {
  FakeMemory mem;
  mem.map(kUser, 0x1000);
  mem.put(kUser, std::span<const uint8_t>(page_image().data() + 0x800, 32));
  const uint8_t differs = 0x36;  // the image has 0x35 (getcpu = 0x135) at 0x803
  mem.put(kUser + 3, std::span<const uint8_t>(&differs, 1));
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase + 0x800;
  s.gpr.rdi = kUser;
  s.gpr.rcx = 32;
  const Outcome r = run({0xf3, 0xa6}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  EXPECT_EQ(r.state.gpr.rcx, 32u - 4);
  EXPECT_EQ(r.state.gpr.rsi, kPageBase + 0x804);
  EXPECT_EQ(r.state.gpr.rdi, kUser + 4);
  EXPECT_EQ(arith_flags(r.state), kFlagCF | kFlagSF | kFlagAF | kFlagPF);  // 0x35 - 0x36
}

TEST(ReadEmulation, RepeCmpsbReadsEachUserPageOnce) {
  FakeMemory mem;
  mem.map(kUser, 0x1000);
  mem.put(kUser + 0x100, std::span<const uint8_t>(page_image().data() + 0x100, 64));
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase + 0x100;
  s.gpr.rdi = kUser + 0x100;
  s.gpr.rcx = 64;
  const Outcome r = run({0xf3, 0xa6}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone);
  EXPECT_EQ(r.state.gpr.rcx, 0u);
  EXPECT_NE(r.state.gpr.eflags & kFlagZF, 0u);
  EXPECT_EQ(mem.reads, 1);
}

TEST(ReadEmulation, VexLoadsZeroTheUpperHalfAndLegacyKeepsIt) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase + 0x7f0;
  const auto& img = page_image();

  Outcome r = run({0xc5, 0xfe, 0x6f, 0x0e}, s, mem);  // vmovdqu ymm1, [rsi]
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  for (unsigned b = 0; b < 32; ++b) EXPECT_EQ(r.state.vec.ymm[1][b], img[0x7f0 + b]) << b;
  EXPECT_TRUE(r.result.vector_changed);
  EXPECT_EQ(r.result.zmm_upper_zeroed, 1u << 1);
  EXPECT_EQ(r.result.instruction, "vmovdqu ymm1, ymmword ptr [rsi]");

  r = run({0xc5, 0xfa, 0x6f, 0x0e}, s, mem);  // vmovdqu xmm1, [rsi]
  for (unsigned b = 0; b < 16; ++b) EXPECT_EQ(r.state.vec.ymm[1][b], img[0x7f0 + b]) << b;
  for (unsigned b = 16; b < 32; ++b) EXPECT_EQ(r.state.vec.ymm[1][b], 0) << b;

  r = run({0xf3, 0x0f, 0x6f, 0x0e}, s, mem);  // movdqu xmm1, [rsi]
  for (unsigned b = 0; b < 16; ++b) EXPECT_EQ(r.state.vec.ymm[1][b], img[0x7f0 + b]) << b;
  for (unsigned b = 16; b < 32; ++b) EXPECT_EQ(r.state.vec.ymm[1][b], s.vec.ymm[1][b]) << b;
  EXPECT_TRUE(r.result.vector_changed);
  EXPECT_EQ(r.result.zmm_upper_zeroed, 0u);
}

TEST(ReadEmulation, VexLoadClearsZmmUpperBitsInAvx512State) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.have_avx512 = true;
  s.avx512.zmm_hi256[1].fill(0x5a);
  s.avx512.zmm_hi256[2].fill(0x5a);
  s.gpr.rsi = kPageBase;
  const Outcome r = run({0xc5, 0xfa, 0x6f, 0x0e}, s, mem);  // vmovdqu xmm1, [rsi]
  ASSERT_EQ(r.result.status, Status::kDone);
  for (uint8_t b : r.state.avx512.zmm_hi256[1]) EXPECT_EQ(b, 0);
  EXPECT_EQ(r.state.avx512.zmm_hi256[2][0], 0x5a);
}

TEST(ReadEmulation, EvexLoadFillsHighRegisterAndZeroesAboveItsLength) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.have_avx512 = true;
  s.avx512.hi16_zmm[1].fill(0x5a);
  s.gpr.rsi = kPageBase + 0x3f0;
  const Outcome r = run({0x62, 0xe1, 0xfe, 0x28, 0x6f, 0x0e}, s, mem);  // vmovdqu64 ymm17, [rsi]
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  EXPECT_EQ(r.result.instruction, "vmovdqu64 ymm17, ymmword ptr [rsi]");
  for (unsigned b = 0; b < 32; ++b)
    EXPECT_EQ(r.state.avx512.hi16_zmm[1][b], page_image()[0x3f0 + b]);
  for (unsigned b = 32; b < 64; ++b) EXPECT_EQ(r.state.avx512.hi16_zmm[1][b], 0) << b;
  EXPECT_TRUE(r.result.vector_changed);
  EXPECT_EQ(r.result.zmm_upper_zeroed, 0u);
}

TEST(ReadEmulation, EvexMaskedLoadFaultsOnlyForUnmaskedBytesPastThePage) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.have_avx512 = true;
  s.avx512.hi16_zmm[2].fill(0x5a);
  s.gpr.rsi = kPageEnd - 16;
  s.avx512.k[2] = 0xffff;                                  // the 16 bytes left in the page
  const Code load = {0x62, 0xe1, 0x7f, 0x2a, 0x6f, 0x16};  // vmovdqu8 ymm18{k2}, [rsi]
  Outcome r = run(load, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  const auto& z = r.state.avx512.hi16_zmm[2];
  for (unsigned b = 0; b < 16; ++b) EXPECT_EQ(z[b], 0xcc) << b;
  for (unsigned b = 16; b < 32; ++b) EXPECT_EQ(z[b], 0x5a) << b;  // merge-masked: kept
  for (unsigned b = 32; b < 64; ++b) EXPECT_EQ(z[b], 0) << b;

  s.avx512.k[2] = 0x1ffff;  // one byte too many
  r = run(load, s, mem);
  EXPECT_EQ(r.result.status, Status::kFault);
  EXPECT_EQ(r.result.fault_addr, kPageEnd);
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, EvexNeedsAvx512State) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase;
  const Outcome r = run({0x62, 0xe1, 0xfe, 0x28, 0x6f, 0x0e}, s, mem);  // vmovdqu64 ymm17, [rsi]
  EXPECT_EQ(r.result.status, Status::kUnsupported);
  EXPECT_NE(r.result.reason.find("AVX-512"), std::string::npos) << r.result.reason;
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, EvexMaskCompareCapstoneCannotDecodeIsEmulated) {
  // glibc's __memcmp_evex_movbe for memcmp(page, buf, n < 32):
  // vpcmpnequb k1 {k2}, ymm18, [rdi], with k2 = (1 << n) - 1, at the very end of the page.
  FakeMemory mem;
  CpuState s = fresh_state();
  s.have_avx512 = true;
  s.gpr.rdi = kPageEnd - 8;
  s.avx512.k[2] = 0xff;
  s.avx512.k[1] = 0x1234;
  auto& a = s.avx512.hi16_zmm[2];  // ymm18: the other buffer, differing at byte 5
  a.fill(0xcc);
  a[5] = 0x00;
  const Outcome r = run({0x62, 0xf3, 0x6d, 0x22, 0x3e, 0x0f, 0x04}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  EXPECT_EQ(r.result.instruction, "vpcmpub k1 {k2}, ymm18, ymmword ptr [rdi], 4");
  EXPECT_EQ(r.state.avx512.k[1], 1u << 5);  // not-equal bits, masked by k2, the rest cleared
  EXPECT_TRUE(r.result.vector_changed);
  EXPECT_EQ(r.state.gpr.rip, kRip + 7);
}

TEST(ReadEmulation, PushCopiesPageQwordToStack) {
  FakeMemory mem;
  mem.map(kUser, 0x100);
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase + 0x400;
  s.gpr.rsp = kUser + 0x80;
  const Outcome r = run({0xff, 0x37}, s, mem);
  ASSERT_EQ(r.result.status, Status::kDone) << r.result.reason;
  EXPECT_EQ(r.state.gpr.rsp, kUser + 0x78);
  for (unsigned i = 0; i < 8; ++i) EXPECT_EQ(mem.at(kUser + 0x78 + i), page_image()[0x400 + i]);
}

TEST(ReadEmulation, ReadStraddlingPageEndFaultsAtNextPage) {
  FakeMemory mem;
  mem.map(kUser, 0x100, 0xee);
  CpuState s = fresh_state();
  s.gpr.rdi = kPageEnd - 4;
  s.gpr.rsi = kPageEnd - 16;
  s.gpr.rcx = 32;
  const Code cases[] = {
      {0x48, 0x8b, 0x07},        // mov rax, [rdi]
      {0xc5, 0xfe, 0x6f, 0x0e},  // vmovdqu ymm1, [rsi]
  };
  for (const Code& code : cases) {
    const Outcome r = run(code, s, mem);
    EXPECT_EQ(r.result.status, Status::kFault) << r.result.instruction;
    EXPECT_EQ(r.result.fault_addr, kPageEnd) << r.result.instruction;
    expect_same_state(r.state, s);
  }
  // rep movsb running off the page: nothing written, registers untouched.
  s.gpr.rdi = kUser;
  const Outcome r = run({0xf3, 0xa4}, s, mem);
  EXPECT_EQ(r.result.status, Status::kFault);
  EXPECT_EQ(r.result.fault_addr, kPageEnd);
  expect_same_state(r.state, s);
  EXPECT_EQ(mem.at(kUser), 0xee);
  EXPECT_EQ(mem.writes, 0);
}

TEST(ReadEmulation, ReadBelowThePageFaultsAtThatAddress) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.eflags |= kFlagDF;
  s.gpr.rsi = kPageBase;
  s.gpr.rcx = 2;  // rep lodsq downwards: the second qword is below the page
  const Outcome r = run({0xf3, 0x48, 0xad}, s, mem);
  EXPECT_EQ(r.result.status, Status::kFault);
  EXPECT_EQ(r.result.fault_addr, kPageBase - 8);
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, UnreadableUserOperandFaultsAtItsFirstMissingPage) {
  FakeMemory mem;
  mem.map(kUser, 0x1000);  // the page after kUser + 0x1000 is unmapped
  mem.put(kUser + 0xff0, std::span<const uint8_t>(page_image().data() + 0x10, 16));
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase + 0x10;  // int3 filler, equal to the user bytes
  s.gpr.rdi = kUser + 0xff0;
  s.gpr.rcx = 32;
  const Outcome r = run({0xf3, 0xa6}, s, mem);
  EXPECT_EQ(r.result.status, Status::kFault);
  EXPECT_EQ(r.result.fault_addr, kUser + 0x1000);
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, UnwritableDestinationFaultsAndKeepsRegisters) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase;
  s.gpr.rdi = kUser;  // unmapped
  s.gpr.rcx = 8;
  Outcome r = run({0xf3, 0xa4}, s, mem);
  EXPECT_EQ(r.result.status, Status::kFault);
  EXPECT_EQ(r.result.fault_addr, kUser);
  expect_same_state(r.state, s);
  // A kernel address as the destination is a fault without asking Memory.
  s.gpr.rdi = 0xffff888000000000ULL;
  r = run({0xf3, 0xa4}, s, mem);
  EXPECT_EQ(r.result.status, Status::kFault);
  EXPECT_EQ(r.result.fault_addr, s.gpr.rdi);
  EXPECT_EQ(mem.writes, 1);
}

struct Refusal {
  Code code;
  const char* text;
};

TEST(ReadEmulation, StoresIntoThePageAreReportedAsPageWrites) {
  const Refusal cases[] = {
      {{0x48, 0x89, 0x17}, "mov qword ptr [rdi], rdx"},
      {{0xc6, 0x07, 0x05}, "mov byte ptr [rdi], 5"},
      {{0x48, 0x01, 0x07}, "add qword ptr [rdi], rax"},
      {{0xf3, 0x0f, 0x7f, 0x07}, "movdqu xmmword ptr [rdi], xmm0"},
      {{0xc5, 0xfd, 0x7f, 0x07}, "vmovdqa ymmword ptr [rdi], ymm0"},
      {{0x48, 0xff, 0x07}, "inc qword ptr [rdi]"},
      {{0xf0, 0x48, 0xff, 0x07}, "lock inc qword ptr [rdi]"},
      {{0xf0, 0xf7, 0x17}, "lock not dword ptr [rdi]"},
      {{0xd1, 0x27}, "shl dword ptr [rdi], 1"},
      {{0x0f, 0x95, 0x07}, "setne byte ptr [rdi]"},
      {{0x48, 0x87, 0x07}, "xchg qword ptr [rdi], rax"},
      {{0xf0, 0x48, 0x0f, 0xc1, 0x07}, "lock xadd qword ptr [rdi], rax"},
      {{0xf3, 0xaa}, "rep stosb byte ptr [rdi], al"},
      {{0xa4}, "movsb byte ptr [rdi], byte ptr [rsi]"},
      {{0x8f, 0x07}, "pop qword ptr [rdi]"},
      {{0xdd, 0x1f}, "fstp qword ptr [rdi]"},
      {{0x48, 0x0f, 0xc3, 0x07}, "movnti qword ptr [rdi], rax"},
      {{0x48, 0x0f, 0x38, 0xf1, 0x07}, "movbe qword ptr [rdi], rax"},
  };
  for (const Refusal& c : cases) {
    FakeMemory mem;
    CpuState s = fresh_state();
    s.gpr.rdi = kPageBase + 0x400;
    s.gpr.rsi = kPageBase;  // movsb: page to page is still a store into the page
    s.gpr.rcx = 4;
    const Outcome r = run(c.code, s, mem);
    EXPECT_EQ(r.result.status, Status::kWritesPage) << c.text << ": " << r.result.reason;
    EXPECT_EQ(r.result.instruction, c.text);
    EXPECT_FALSE(r.result.reason.empty());
    expect_same_state(r.state, s);
    EXPECT_EQ(mem.writes, 0);
  }
}

TEST(ReadEmulation, PushOntoAStackInsideThePageIsAPageWrite) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase;
  s.gpr.rsp = kPageBase + 0x100;
  const Outcome r = run({0xff, 0x37}, s, mem);  // push qword ptr [rdi]
  EXPECT_EQ(r.result.status, Status::kWritesPage) << r.result.reason;
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, CmpAndTestOfThePageAreNotPageWrites) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rdi = kPageBase;
  // Capstone 4 marks `test m32, imm32` as a write; it is not.
  const Outcome r = run({0xf7, 0x07, 0x80, 0x00, 0x00, 0x00}, s, mem);
  EXPECT_EQ(r.result.status, Status::kDone) << r.result.reason;
}

TEST(ReadEmulation, UnknownInstructionsAreUnsupportedWithTheirText) {
  const Refusal cases[] = {
      {{0x48, 0x0f, 0xaf, 0x07}, "imul rax, qword ptr [rdi]"},
      {{0xff, 0x17}, "call qword ptr [rdi]"},
      {{0x62, 0xf1, 0x7f, 0x48, 0x6f, 0x0f}, "vmovdqu8 zmm1, zmmword ptr [rdi]"},
      {{0x0f, 0x6f, 0x07}, "movq mm0, qword ptr [rdi]"},
      {{0xf2, 0x0f, 0x38, 0xf0, 0x07}, "crc32 eax, byte ptr [rdi]"},
  };
  for (const Refusal& c : cases) {
    FakeMemory mem;
    CpuState s = fresh_state();
    s.gpr.rdi = kPageBase + 0x400;
    const Outcome r = run(c.code, s, mem);
    EXPECT_EQ(r.result.status, Status::kUnsupported) << c.text;
    EXPECT_EQ(r.result.instruction, c.text);
    EXPECT_FALSE(r.result.reason.empty()) << c.text;
    expect_same_state(r.state, s);
  }
}

TEST(ReadEmulation, ThirtyTwoBitStringAddressingIsUnsupported) {
  FakeMemory mem;
  mem.map(kUser, 0x100);
  CpuState s = fresh_state();
  s.gpr.fs_base = kPageBase;  // fs: rep movsb byte ptr [edi], byte ptr fs:[esi]
  s.gpr.rsi = 0x400;
  s.gpr.rdi = kUser;
  s.gpr.rcx = 4;
  const Outcome r = run({0x64, 0x67, 0xf3, 0xa4}, s, mem);
  EXPECT_EQ(r.result.status, Status::kUnsupported);
  EXPECT_NE(r.result.reason.find("32-bit address size"), std::string::npos) << r.result.reason;
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, MisalignedMovdqaIsUnsupported) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.gpr.rsi = kPageBase + 8;
  const Outcome r = run({0x66, 0x0f, 0x6f, 0x0e}, s, mem);
  EXPECT_EQ(r.result.status, Status::kUnsupported);
  EXPECT_NE(r.result.reason.find("misaligned"), std::string::npos) << r.result.reason;
  s.gpr.rsi = kPageBase + 16;
  EXPECT_EQ(run({0x66, 0x0f, 0x6f, 0x0e}, s, mem).result.status, Status::kDone);
}

TEST(ReadEmulation, VexWithoutAvxStateIsUnsupported) {
  FakeMemory mem;
  CpuState s = fresh_state();
  s.have_avx = false;
  s.gpr.rsi = kPageBase;
  const Outcome r = run({0xc5, 0xfe, 0x6f, 0x0e}, s, mem);
  EXPECT_EQ(r.result.status, Status::kUnsupported);
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, InstructionNotAddressingThePageIsUnsupported) {
  FakeMemory mem;
  mem.map(kUser, 0x100);
  CpuState s = fresh_state();
  s.gpr.rdi = kUser;
  const Outcome r = run({0x48, 0x8b, 0x07}, s, mem);
  EXPECT_EQ(r.result.status, Status::kUnsupported);
  EXPECT_EQ(r.result.instruction, "mov rax, qword ptr [rdi]");
  expect_same_state(r.state, s);
}

TEST(ReadEmulation, UndecodableBytesAreUnsupportedWithoutText) {
  FakeMemory mem;
  CpuState s = fresh_state();
  const Outcome r = run({0x06}, s, mem);  // push es: invalid in 64-bit mode
  EXPECT_EQ(r.result.status, Status::kUnsupported);
  EXPECT_TRUE(r.result.instruction.empty());
  EXPECT_FALSE(r.result.reason.empty());
  EXPECT_EQ(run({}, s, mem).result.status, Status::kUnsupported);
}

}  // namespace
}  // namespace vsyscall
