// vsyscall/call_site: the legacy call forms, recognised from a return address, and the bytes
// that point them elsewhere; and what is refused.
#include "vsyscall/call_site.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "vsyscall/page.h"

namespace vsyscall {
namespace {

constexpr uint64_t kGtod = 0xffffffffff600000ULL;
constexpr uint64_t kTime = 0xffffffffff600400ULL;

// Program memory made of byte runs; anything else is unmapped.
class Bytes : public Memory {
 public:
  void put(uint64_t addr, std::vector<uint8_t> b) {
    for (size_t i = 0; i < b.size(); ++i) m_[addr + i] = b[i];
  }
  void put_u64(uint64_t addr, uint64_t v) {
    std::vector<uint8_t> b(8);
    std::memcpy(b.data(), &v, 8);
    put(addr, b);
  }
  bool read(uint64_t addr, std::span<uint8_t> out) override {
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = m_.find(addr + i);
      if (it == m_.end()) return false;
      out[i] = it->second;
    }
    return true;
  }
  bool write(uint64_t, std::span<const uint8_t>) override { return false; }

 private:
  std::map<uint64_t, uint8_t> m_;
};

std::vector<uint8_t> cat(std::vector<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> o;
  for (auto& p : parts) o.insert(o.end(), p.begin(), p.end());
  return o;
}
std::vector<uint8_t> le32(int64_t v) {
  std::vector<uint8_t> b(4);
  const auto w = static_cast<int32_t>(v);
  std::memcpy(b.data(), &w, 4);
  return b;
}
std::vector<uint8_t> le64(uint64_t v) {
  std::vector<uint8_t> b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}

constexpr uint64_t kCode = 0x401000;
const std::vector<uint8_t> kNops = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90};

// Puts `code` after some nops at kCode; returns the address just after it.
uint64_t place(Bytes& m, const std::vector<uint8_t>& code) {
  m.put(kCode - kNops.size(), kNops);
  m.put(kCode, code);
  m.put(kCode + code.size(), {0xc3});
  return kCode + code.size();
}

TEST(CallSite, MovImm32ThenCallRax) {
  Bytes m;
  // mov $0xffffffffff600000,%rax; call *%rax
  const uint64_t ret = place(m, {0x48, 0xc7, 0xc0, 0x00, 0x00, 0x60, 0xff, 0xff, 0xd0});
  std::string why;
  auto s = find_call_site(m, ret, kGtod, &why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->field, CallSite::Field::kImm32);
  EXPECT_EQ(s->field_addr, kCode + 3);
  EXPECT_EQ(s->insn_addr, kCode);
  EXPECT_FALSE(s->tail_call);
  // The same site does not lead to another entry.
  EXPECT_FALSE(find_call_site(m, ret, kTime, &why));
}

TEST(CallSite, ExtendedRegistersAndTheRspAmbiguity) {
  Bytes m;
  // mov $0xffffffffff600400,%r12; call *%r12 -- whose last two bytes also read `call *%rsp`.
  const uint64_t ret = place(m, {0x49, 0xc7, 0xc4, 0x00, 0x04, 0x60, 0xff, 0x41, 0xff, 0xd4});
  std::string why;
  auto s = find_call_site(m, ret, kTime, &why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->field, CallSite::Field::kImm32);
  EXPECT_EQ(s->field_addr, kCode + 3);
}

TEST(CallSite, MovabsThenCall) {
  Bytes m;
  const uint64_t ret = place(m, cat({{0x48, 0xbb}, le64(kGtod), {0xff, 0xd3}}));  // rbx
  auto s = find_call_site(m, ret, kGtod, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field, CallSite::Field::kImm64);
  EXPECT_EQ(s->field_addr, kCode + 2);
}

TEST(CallSite, ARegisterLoadedFromADataWord) {
  Bytes m;
  constexpr uint64_t kWord = 0x600000;
  // mov disp(%rip),%rax; call *%rax
  const uint64_t load_end = kCode + 7;
  uint64_t ret = place(m, cat({{0x48, 0x8b, 0x05}, le32(static_cast<int64_t>(kWord - load_end)), {0xff, 0xd0}}));
  m.put_u64(kWord, kGtod);
  auto s = find_call_site(m, ret, kGtod, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field, CallSite::Field::kWord);
  EXPECT_EQ(s->field_addr, kWord);
  // A word that holds something else (a mangled pointer) is never the site.
  m.put_u64(kWord, kGtod ^ 0x5a5a5a5a);
  EXPECT_FALSE(find_call_site(m, ret, kGtod, nullptr));
}

TEST(CallSite, CallThroughMemoryAndAbsoluteWords) {
  Bytes m;
  constexpr uint64_t kWord = 0x600010;
  // call *disp(%rip)
  uint64_t ret = place(m, cat({{0xff, 0x15}, le32(static_cast<int64_t>(kWord - (kCode + 6)))}));
  m.put_u64(kWord, kTime);
  auto s = find_call_site(m, ret, kTime, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field, CallSite::Field::kWord);
  EXPECT_EQ(s->field_addr, kWord);
  // call *abs32 (ff 14 25 disp32)
  Bytes a;
  ret = place(a, cat({{0xff, 0x14, 0x25}, le32(static_cast<int64_t>(kWord))}));
  a.put_u64(kWord, kTime);
  s = find_call_site(a, ret, kTime, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field_addr, kWord);
}

TEST(CallSite, DirectCallIntoThePage) {
  Bytes m;
  const uint64_t ret = place(m, cat({{0xe8}, le32(static_cast<int64_t>(kGtod - (kCode + 5)))}));
  auto s = find_call_site(m, ret, kGtod, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field, CallSite::Field::kRel32);
  EXPECT_EQ(s->field_addr, kCode + 1);
  EXPECT_EQ(s->rel_base, ret);
}

TEST(CallSite, TailCallsThroughAPltStyleHop) {
  Bytes m;
  constexpr uint64_t kFn = 0x402000, kPlt = 0x403000, kGot = 0x604000;
  // call plt; plt: jmp *got(%rip); got -> fn; fn: mov $time,%rax; jmp *%rax
  const uint64_t ret = place(m, cat({{0xe8}, le32(static_cast<int64_t>(kPlt - (kCode + 5)))}));
  m.put(kPlt, cat({{0xff, 0x25}, le32(static_cast<int64_t>(kGot - (kPlt + 6)))}));
  m.put_u64(kGot, kFn);
  m.put(kFn, {0x48, 0xc7, 0xc0, 0x00, 0x04, 0x60, 0xff, 0xff, 0xe0, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc});
  std::string why;
  auto s = find_call_site(m, ret, kTime, &why);
  ASSERT_TRUE(s) << why;
  EXPECT_TRUE(s->tail_call);
  EXPECT_EQ(s->field, CallSite::Field::kImm32);
  EXPECT_EQ(s->field_addr, kFn + 3);
  // jmp rel32 into the page as the tail.
  Bytes j;
  const uint64_t ret2 = place(j, cat({{0xe8}, le32(static_cast<int64_t>(kFn - (kCode + 5)))}));
  j.put(kFn, cat({{0xe9}, le32(static_cast<int64_t>(kTime - (kFn + 5))), std::vector<uint8_t>(10, 0xcc)}));
  s = find_call_site(j, ret2, kTime, &why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->field, CallSite::Field::kRel32);
  EXPECT_EQ(s->rel_base, kFn + 5);
}

TEST(CallSite, WhatIsNotRecognised) {
  std::string why;
  // The register loaded elsewhere (a loop-invariant load): not the instruction before.
  Bytes a;
  uint64_t ret = place(a, {0x48, 0x89, 0xd8, 0xff, 0xd0});  // mov %rbx,%rax; call *%rax
  EXPECT_FALSE(find_call_site(a, ret, kGtod, &why));
  EXPECT_FALSE(why.empty());
  // A load into another register than the one called.
  Bytes b;
  ret = place(b, {0x48, 0xc7, 0xc3, 0x00, 0x00, 0x60, 0xff, 0xff, 0xd0});  // rbx, then call rax
  EXPECT_FALSE(find_call_site(b, ret, kGtod, &why));
  // Unreadable code.
  Bytes c;
  EXPECT_FALSE(find_call_site(c, 0x500000, kGtod, &why));
  // A called function that returns without jumping to the page.
  Bytes d;
  ret = place(d, cat({{0xe8}, le32(0x1000 - 5)}));
  d.put(kCode + 0x1000, {0x31, 0xc0, 0xc3});
  EXPECT_FALSE(find_call_site(d, ret, kTime, &why));
}

TEST(CallSite, FieldBytesAndTheirReach) {
  CallSite imm;
  imm.field = CallSite::Field::kImm32;
  auto b = call_site_field(imm, 0x7fff0400);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, le32(0x7fff0400));
  EXPECT_FALSE(call_site_field(imm, 0x80000000));     // would sign-extend to the top
  EXPECT_FALSE(call_site_field(imm, 0x7f0000001000));
  CallSite rel;
  rel.field = CallSite::Field::kRel32;
  rel.rel_base = 0x401005;
  b = call_site_field(rel, 0x7fff0000);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, le32(0x7fff0000 - 0x401005));
  rel.rel_base = 0x7f0000000000;
  EXPECT_FALSE(call_site_field(rel, 0x7fff0000));
  CallSite word;
  word.field = CallSite::Field::kWord;
  b = call_site_field(word, 0x7f0000001000);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, le64(0x7f0000001000));
}

}  // namespace
}  // namespace vsyscall
