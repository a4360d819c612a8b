// Tests the static scanner and its verdicts on synthetic code and data buffers.
#include "vsyscall/static_scan.h"

#include <gtest/gtest.h>

#include <vector>

#include "vsyscall/page.h"

namespace vsyscall {
namespace {

constexpr uint64_t kP = kPageBase;
using Bytes = std::vector<uint8_t>;

// Code bytes built piece by piece, padded with nops.
struct Code {
  uint64_t vaddr = 0x401000;
  Bytes bytes = Bytes(32, 0x90);

  uint64_t here() const { return vaddr + bytes.size(); }
  Code& add(const Bytes& b) {
    bytes.insert(bytes.end(), b.begin(), b.end());
    return *this;
  }
  Code& nops(size_t n) { return add(Bytes(n, 0x90)); }
  // call/jmp rel32 to `target` from the current position.
  Code& branch(uint8_t opcode, uint64_t target) {
    const auto rel = static_cast<uint32_t>(target - (here() + 5));
    return add({opcode, static_cast<uint8_t>(rel), static_cast<uint8_t>(rel >> 8),
                static_cast<uint8_t>(rel >> 16), static_cast<uint8_t>(rel >> 24)});
  }
  // A RIP-relative ModRM instruction `prefix... modrm disp32` whose memory operand is `word`.
  Code& rip_relative(const Bytes& opcode, uint64_t word) {
    const auto rel = static_cast<uint32_t>(word - (here() + opcode.size() + 4));
    add(opcode);
    return add({static_cast<uint8_t>(rel), static_cast<uint8_t>(rel >> 8),
                static_cast<uint8_t>(rel >> 16), static_cast<uint8_t>(rel >> 24)});
  }
  Region region() const { return {vaddr, bytes}; }
};

const Bytes kMovRaxGtod = {0x48, 0xc7, 0xc0, 0x00, 0x00, 0x60, 0xff};  // mov $P,%rax
const Bytes kMovRaxTime = {0x48, 0xc7, 0xc0, 0x00, 0x04, 0x60, 0xff};  // mov $P+0x400,%rax
const Bytes kMovabsR11Cpu = {0x49, 0xbb, 0x00, 0x08, 0x60,
                             0xff, 0xff, 0xff, 0xff, 0xff};  // movabs $P+0x800,%r11
const Bytes kCallRax = {0xff, 0xd0};
const Bytes kJmpRax = {0xff, 0xe0};
const Bytes kCallR11 = {0x41, 0xff, 0xd3};
const Bytes kRet = {0xc3};

Findings scan_code(const Code& c) {
  ImageView v;
  v.code.push_back(c.region());
  return scan_image(v);
}

TEST(StaticScan, FindsMovCallAndTailJump) {
  Code c;
  c.add(kMovRaxGtod).add(kCallRax).add(kRet).nops(5);
  const uint64_t jmp_at = c.here() + kMovRaxTime.size() + 4;
  c.add(kMovRaxTime).add({0x48, 0x89, 0xc7}).add({0x48, 0x85, 0xff}).add(kJmpRax).nops(40);
  const Findings f = scan_code(c);
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].address, 0x401000u + 32 + 7);
  EXPECT_EQ(f.calls[0].target, kP);
  EXPECT_EQ(f.calls[0].form, SiteForm::kImmediate);
  EXPECT_FALSE(f.calls[0].jump);
  EXPECT_EQ(f.calls[0].sequence, "mov $0xffffffffff600000,%rax; call *%rax");
  EXPECT_EQ(f.calls[1].address, jmp_at + 2);  // after `mov %rax,%rdi; test %rdi,%rdi`
  EXPECT_EQ(f.calls[1].target, kP + 0x400);
  EXPECT_TRUE(f.calls[1].jump);
  EXPECT_TRUE(f.reads.empty());
  EXPECT_TRUE(f.refs.empty());
}

TEST(StaticScan, FindsMovabsThroughAnotherRegister) {
  Code c;
  c.add(kMovabsR11Cpu).add(kCallR11).nops(40);
  const Findings f = scan_code(c);
  ASSERT_EQ(f.calls.size(), 1u);
  EXPECT_EQ(f.calls[0].target, kP + 0x800);
  EXPECT_EQ(f.calls[0].sequence, "movabs $0xffffffffff600800,%r11; call *%r11");
}

TEST(StaticScan, AddressOverwrittenOrReturnedIsAReferenceNotACall) {
  Code c;
  c.add(kMovRaxGtod).add({0x31, 0xc0}).add(kCallRax).nops(8);  // xor %eax,%eax kills it
  c.add(kMovRaxTime).add(kRet).nops(40);                       // an IFUNC resolver's return
  const Findings f = scan_code(c);
  EXPECT_TRUE(f.calls.empty());
  ASSERT_EQ(f.refs.size(), 2u);
  EXPECT_EQ(f.refs[0].target, kP);
  EXPECT_EQ(f.refs[1].target, kP + 0x400);
}

TEST(StaticScan, FindsDirectBranchesIntoThePage) {
  Code c;
  c.branch(0xe8, kP).nops(3).branch(0xe9, kP + 0x400).nops(3).branch(0xe8, 0x401000).nops(3);
  c.branch(0xe9, kP + 0x493).nops(40);  // no entry: rel32 bytes that happen to point there
  const Findings f = scan_code(c);
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].form, SiteForm::kDirect);
  EXPECT_EQ(f.calls[0].address, 0x401000u + 32);
  EXPECT_EQ(f.calls[0].sequence, "call 0xffffffffff600000");
  EXPECT_TRUE(f.calls[1].jump);
  EXPECT_EQ(f.calls[1].target, kP + 0x400);
}

TEST(StaticScan, FindsABranchPastTheFirst64KiBAndInTheLastBytes) {
  Code c;
  c.vaddr = 0x10000;  // a PIE's low addresses
  c.nops(0x10000 - 40).branch(0xe8, kP + 0x800).nops(0x100);
  c.add(kMovRaxGtod).add(kCallRax);  // the region ends right after it
  const Findings f = scan_code(c);
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].target, kP + 0x800);
  EXPECT_EQ(f.calls[1].target, kP);
}

TEST(StaticScan, FindsSitesAtEveryOffsetOfTheVectorLoop) {
  // The byte prefilter runs 16 positions at a time and the tail byte by byte: a site must be
  // found wherever it falls, up to the region's last byte.
  for (size_t pad = 0; pad < 48; ++pad) {
    SCOPED_TRACE(pad);
    Code c;
    c.bytes.clear();
    c.nops(pad).add(kMovRaxGtod).add(kCallRax);
    EXPECT_EQ(scan_code(c).calls.size(), 1u);
    Code d;
    d.bytes.clear();
    d.nops(pad).branch(0xe8, kP + 0x400);
    EXPECT_EQ(scan_code(d).calls.size(), 1u);
  }
}

TEST(StaticScan, FindsDirectBranchesAcrossThePrefilterChunks) {
  // The rel32 prefilter works in chunks of 56 KiB: a branch near a chunk's edge, from code
  // at addresses whose distance to the page crosses a 64 KiB boundary, must still be found.
  constexpr size_t kChunk = 0x10000 - 0x2000;
  for (uint64_t vaddr : {0x10000ull, 0x3fff3ull, 0x5ff000ull}) {
    for (size_t at : {kChunk - 21, kChunk - 16, kChunk - 5, kChunk + 3, 2 * kChunk - 1}) {
      SCOPED_TRACE(testing::Message() << std::hex << vaddr << " +" << at);
      Code c;
      c.vaddr = vaddr;
      c.bytes.assign(at, 0x90);
      c.branch(0xe8, kP + 0x800).nops(64);
      const Findings f = scan_code(c);
      ASSERT_EQ(f.calls.size(), 1u);
      EXPECT_EQ(f.calls[0].address, vaddr + at);
    }
  }
}

TEST(StaticScan, FindsReadsOfThePage) {
  Code c;
  c.add({0x48, 0xa1, 0x08, 0x08, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff});  // movabs P+0x808,%rax
  c.add({0x8b, 0x04, 0x25, 0x00, 0x04, 0x60, 0xff});                    // mov P+0x400,%eax
  c.nops(40);
  const Findings f = scan_code(c);
  ASSERT_EQ(f.reads.size(), 2u);
  EXPECT_EQ(f.reads[0].target, kP + 0x808);
  EXPECT_EQ(f.reads[0].text, "movabsq 0xffffffffff600808, %rax");
  EXPECT_EQ(f.reads[1].target, kP + 0x400);
  EXPECT_TRUE(f.calls.empty());
}

TEST(StaticScan, IgnoresPageBytesInOrdinaryInstructions) {
  Code c;
  c.add({0x48, 0x05, 0x00, 0x00, 0x60, 0xff});  // add $P,%rax
  c.add({0xb8, 0x00, 0x00, 0x60, 0xff});        // mov $0xff600000,%eax
  c.nops(40);
  EXPECT_TRUE(scan_code(c).empty());
}

TEST(StaticScan, FollowsDataWordsToTheirCalls) {
  // .data at 0x600000: a word for each entry (Go < 1.16's vdsoGettimeofdaySym, a function
  // pointer initialised to an entry), one more misaligned (not a pointer).
  Bytes data(64, 0);
  auto put = [&](size_t off, uint64_t v) {
    for (int i = 0; i < 8; ++i) data[off + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(8, kP);
  put(16, kP + 0x400);
  put(33, kP + 0x800);
  Code c;
  c.rip_relative({0x48, 0x8b, 0x05}, 0x600008).add(kCallRax).nops(4);  // mov word,%rax; call
  c.rip_relative({0xff, 0x25}, 0x600010).nops(40);                     // jmp *word
  ImageView v;
  v.code.push_back(c.region());
  v.data.push_back({0x600000, data});
  const Findings f = scan_image(v);
  ASSERT_EQ(f.words.size(), 2u);
  EXPECT_EQ(f.words[0].address, 0x600008u);
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].form, SiteForm::kWordRegister);
  EXPECT_EQ(f.calls[0].target, kP);
  EXPECT_EQ(f.calls[0].setup_address, 0x401000u + 32);
  EXPECT_EQ(f.calls[1].form, SiteForm::kWordMemory);
  EXPECT_TRUE(f.calls[1].jump);
  EXPECT_EQ(f.calls[1].target, kP + 0x400);
}

TEST(StaticScan, ParsesVersions) {
  EXPECT_EQ(parse_version("2.14"), (Version{2, 14}));
  EXPECT_EQ(parse_version("1.15.3"), (Version{1, 15}));
  EXPECT_FALSE(parse_version("devel"));
  EXPECT_FALSE(parse_version("2"));
  EXPECT_LT(*parse_version("1.9"), *parse_version("1.16"));
}

Findings one_call(SiteForm form) {
  Findings f;
  ScannedCall s;
  s.form = form;
  s.target = kP;
  f.calls.push_back(s);
  return f;
}

TEST(StaticScanVerdict, CleanWhenNothingFound) {
  Findings f;
  EXPECT_EQ(assess(f, {}).verdict, Verdict::kClean);
}

TEST(StaticScanVerdict, ReadBreaksOnXonlyEvenWithCalls) {
  Findings f = one_call(SiteForm::kImmediate);
  f.reads.push_back({0x1000, kP + 0x808, "movabs"});
  EXPECT_EQ(assess(f, {}).verdict, Verdict::kBreaksOnXonly);
}

TEST(StaticScanVerdict, CallBreaksOnNone) {
  Findings f = one_call(SiteForm::kImmediate);
  const Assessment a = assess(f, {});
  EXPECT_EQ(a.verdict, Verdict::kBreaksOnNone);
  EXPECT_FALSE(a.vdso_fallback);
  EXPECT_FALSE(f.calls[0].fallback);
}

TEST(StaticScanVerdict, OldGoDataWordIsTheNoVdsoFallback) {
  RuntimeFacts go115;
  go115.go = true;
  go115.go_version = Version{1, 15};
  Findings f = one_call(SiteForm::kWordRegister);
  const Assessment a = assess(f, go115);
  EXPECT_EQ(a.verdict, Verdict::kNeedsVdso);
  EXPECT_TRUE(a.vdso_fallback);
  EXPECT_TRUE(f.calls[0].fallback);

  RuntimeFacts go14;  // Go 1.4 has no build info
  go14.go = true;
  Findings g = one_call(SiteForm::kWordMemory);
  EXPECT_EQ(assess(g, go14).verdict, Verdict::kNeedsVdso);
}

TEST(StaticScanVerdict, NewGoDataWordCallBreaksOnNone) {
  RuntimeFacts go116;
  go116.go = true;
  go116.go_version = Version{1, 16};
  Findings f = one_call(SiteForm::kWordRegister);
  EXPECT_EQ(assess(f, go116).verdict, Verdict::kBreaksOnNone);
}

TEST(StaticScanVerdict, OldGlibcIfuncReturningAnEntryIsTheFallback) {
  RuntimeFacts libc213;
  libc213.glibc = Version{2, 13};
  libc213.is_glibc_itself = true;
  Findings f;
  f.refs.push_back({0x1000, kP});
  const Assessment a = assess(f, libc213);
  EXPECT_EQ(a.verdict, Verdict::kNeedsVdso);
  EXPECT_TRUE(a.vdso_fallback);
  // Its static form calls the page directly: that breaks on none.
  Findings g = one_call(SiteForm::kImmediate);
  EXPECT_EQ(assess(g, libc213).verdict, Verdict::kBreaksOnNone);
}

TEST(StaticScanVerdict, PageAddressWithoutAFallbackRuntimeBreaksOnNone) {
  RuntimeFacts libc236;
  libc236.glibc = Version{2, 36};
  libc236.is_glibc_itself = true;
  Findings f;
  f.refs.push_back({0x1000, kP});
  EXPECT_EQ(assess(f, libc236).verdict, Verdict::kBreaksOnNone);
  Findings g;
  g.words.push_back({0x600000, kP});
  EXPECT_EQ(assess(g, {}).verdict, Verdict::kBreaksOnNone);
}

}  // namespace
}  // namespace vsyscall
