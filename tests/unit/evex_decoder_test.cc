// Tests the AVX-512 decoder against encodings produced by GNU as (the asm text is the source
// the bytes were assembled from).
#include "vsyscall/evex_decoder.h"

#include <gtest/gtest.h>

#include <vector>

namespace vsyscall {
namespace {

struct Row {
  const char* source;
  std::vector<uint8_t> bytes;
  const char* text;
};

TEST(EvexDecoder, DecodesWhatTheAssemblerEncoded) {
  const Row rows[] = {
      {"vpcmpub k1{k2}, ymm18, [rdi], 4",
       {0x62, 0xf3, 0x6d, 0x22, 0x3e, 0x0f, 0x04},
       "vpcmpub k1 {k2}, ymm18, ymmword ptr [rdi], 4"},
      {"vpcmpub k1, ymm20, [rdi+0x60], 4 (disp8 * 32)",
       {0x62, 0xf3, 0x5d, 0x20, 0x3e, 0x4f, 0x03, 0x04},
       "vpcmpub k1, ymm20, ymmword ptr [rdi + 0x60], 4"},
      {"vpcmpub k1, ymm17, [rdi+rdx-0x20], 4",
       {0x62, 0xf3, 0x75, 0x20, 0x3e, 0x4c, 0x17, 0xff, 0x04},
       "vpcmpub k1, ymm17, ymmword ptr [rdi + rdx - 0x20], 4"},
      {"vpternlogd ymm20, ymm17, [rdi+0x60], 0xde",
       {0x62, 0xe3, 0x75, 0x20, 0x25, 0x67, 0x03, 0xde},
       "vpternlogd ymm20, ymm17, ymmword ptr [rdi + 0x60], 0xde"},
      {"vpcmpeqb k0, ymm16, [rdi]",
       {0x62, 0xf1, 0x7d, 0x20, 0x74, 0x07},
       "vpcmpeqb k0, ymm16, ymmword ptr [rdi]"},
      {"vpcmpeqb k0, ymm16, [rip+0x100]",
       {0x62, 0xf1, 0x7d, 0x20, 0x74, 0x05, 0x00, 0x01, 0x00, 0x00},
       "vpcmpeqb k0, ymm16, ymmword ptr [rip + 0x100]"},
      {"vpcmpeqb k0, ymm16, fs:[rdi]",
       {0x64, 0x62, 0xf1, 0x7d, 0x20, 0x74, 0x07},
       "vpcmpeqb k0, ymm16, ymmword ptr fs:[rdi]"},
      {"vpcmpeqb k0, ymm16, [edi]",
       {0x67, 0x62, 0xf1, 0x7d, 0x20, 0x74, 0x07},
       "vpcmpeqb k0, ymm16, ymmword ptr [edi]"},
      {"vpcmpeqb k0, ymm16, [r12+r13*4+0x1000]",
       {0x62, 0x91, 0x7d, 0x20, 0x74, 0x84, 0xac, 0x00, 0x10, 0x00, 0x00},
       "vpcmpeqb k0, ymm16, ymmword ptr [r12 + r13*4 + 0x1000]"},
      {"vpcmpeqb k0, ymm16, [0x1234]",
       {0x62, 0xf1, 0x7d, 0x20, 0x74, 0x04, 0x25, 0x34, 0x12, 0x00, 0x00},
       "vpcmpeqb k0, ymm16, ymmword ptr [0x1234]"},
      {"vporq ymm20{k3}{z}, ymm21, [rsi]",
       {0x62, 0xe1, 0xd5, 0xa3, 0xeb, 0x26},
       "vporq ymm20 {k3} {z}, ymm21, ymmword ptr [rsi]"},
      {"vmovdqu8 ymm18{k2}, [rsi+rdx*1-0x20]",
       {0x62, 0xe1, 0x7f, 0x2a, 0x6f, 0x54, 0x16, 0xff},
       "vmovdqu8 ymm18 {k2}, ymmword ptr [rsi + rdx - 0x20]"},
      {"vptestnmq k1, zmm17, [rsi]",
       {0x62, 0xf2, 0xf6, 0x40, 0x27, 0x0e},
       "vptestnmq k1, zmm17, zmmword ptr [rsi]"},
  };
  for (const Row& r : rows) {
    const auto d = decode_evex(r.bytes, 0x401000);
    ASSERT_TRUE(d.has_value()) << r.source;
    EXPECT_EQ(d->insn.text, r.text) << r.source;
    EXPECT_EQ(d->insn.size, r.bytes.size()) << r.source;
    EXPECT_EQ(d->insn.encoding, VectorEncoding::kEvex) << r.source;
  }
}

TEST(EvexDecoder, ReportsMaskLengthPredicateAndElement) {
  // vpcmpub k1{k2}, ymm18, [rdi], 4
  const auto d = decode_evex(std::vector<uint8_t>{0x62, 0xf3, 0x6d, 0x22, 0x3e, 0x0f, 0x04}, 0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->insn.evex.mask, 2u);
  EXPECT_FALSE(d->insn.evex.zeroing);
  EXPECT_EQ(d->insn.evex.length, 32u);
  EXPECT_EQ(d->op.kind, EvexKind::kCompare);
  EXPECT_EQ(d->op.predicate, EvexPredicate::kNe);
  EXPECT_EQ(d->op.element, 1u);
  EXPECT_FALSE(d->op.is_signed);
  // vpcmpgtq k1, ymm17, [rsi]: a fixed signed greater-than on qwords.
  const auto g = decode_evex(std::vector<uint8_t>{0x62, 0xf2, 0xf5, 0x20, 0x37, 0x0e}, 0);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->op.predicate, EvexPredicate::kGt);
  EXPECT_TRUE(g->op.is_signed);
  EXPECT_EQ(g->op.element, 8u);
}

TEST(EvexDecoder, RefusesWhatItDoesNotModel) {
  const std::vector<uint8_t> refused[] = {
      {0x48, 0x8b, 0x07},                    // mov rax, [rdi]: not EVEX
      {0xc5, 0xfe, 0x6f, 0x0e},              // vmovdqu ymm1, [rsi]: VEX
      {0x62, 0xf1, 0x7d, 0x20, 0x74, 0xc1},  // vpcmpeqb k0, ymm16, ymm1: no memory
      {0x62, 0xe1, 0xfe, 0x28, 0x7f, 0x0e},  // vmovdqu64 [rsi], ymm17: a store
      {0x62, 0xf1, 0x7d, 0x60, 0x74, 0x07},  // L'L = 3: reserved length
      {0x62, 0xf3, 0x6d, 0x22, 0x3e, 0x0f},  // truncated before the imm8
      {0x62, 0xf1, 0x7d},                    // truncated prefix
  };
  for (const auto& bytes : refused) {
    EXPECT_FALSE(decode_evex(bytes, 0).has_value()) << bytes.size() << " bytes";
  }
}

}  // namespace
}  // namespace vsyscall
