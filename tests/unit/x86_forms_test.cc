// Tests the one-instruction classifier on the encodings legacy call sites and page reads use
// (bytes as GNU as assembles them; the AT&T source is in each row).
#include "vsyscall/x86_forms.h"

#include <gtest/gtest.h>

#include <vector>

#include "vsyscall/page.h"

namespace vsyscall {
namespace {

constexpr uint64_t kP = kPageBase;

// One Capstone handle (x86-64, detail on) and the instruction it decoded last.
class Cs {
 public:
  Cs() {
    EXPECT_EQ(cs_open(CS_ARCH_X86, CS_MODE_64, &h_), CS_ERR_OK);
    cs_option(h_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Cs() {
    if (insn_ != nullptr) cs_free(insn_, 1);
    cs_close(&h_);
  }
  const cs_insn& decode(const std::vector<uint8_t>& b, uint64_t address) {
    if (insn_ != nullptr) cs_free(insn_, 1);
    insn_ = nullptr;
    const size_t n = cs_disasm(h_, b.data(), b.size(), address, 1, &insn_);
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(insn_->size, b.size());
    return *insn_;
  }

 private:
  csh h_ = 0;
  cs_insn* insn_ = nullptr;
};

struct Row {
  const char* source;
  std::vector<uint8_t> bytes;
  uint64_t at;
  FormKind kind;
  uint64_t address;
  x86_reg reg;
  bool imm64;
};

std::vector<uint8_t> rel32(uint8_t opcode, uint64_t at, uint64_t target) {
  const auto rel = static_cast<uint32_t>(target - (at + 5));
  return {opcode, static_cast<uint8_t>(rel), static_cast<uint8_t>(rel >> 8),
          static_cast<uint8_t>(rel >> 16), static_cast<uint8_t>(rel >> 24)};
}

TEST(X86Forms, ClassifiesEachLegacyForm) {
  const Row rows[] = {
      {"mov $0xffffffffff600000,%rax (7-byte, sign-extended imm32)",
       {0x48, 0xc7, 0xc0, 0x00, 0x00, 0x60, 0xff},
       0x1000,
       FormKind::kPageImmediate,
       kP,
       X86_REG_RAX,
       false},
      {"mov $0xffffffffff600800,%r11",
       {0x49, 0xc7, 0xc3, 0x00, 0x08, 0x60, 0xff},
       0x1000,
       FormKind::kPageImmediate,
       kP + 0x800,
       X86_REG_R11,
       false},
      {"movabs $0xffffffffff600400,%rax",
       {0x48, 0xb8, 0x00, 0x04, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff},
       0x1000,
       FormKind::kPageImmediate,
       kP + 0x400,
       X86_REG_RAX,
       true},
      {"lea 0xffffffffff600000,%rdi",
       {0x48, 0x8d, 0x3c, 0x25, 0x00, 0x00, 0x60, 0xff},
       0x1000,
       FormKind::kPageImmediate,
       kP,
       X86_REG_RDI,
       false},
      {"mov $0xff600000,%eax (zero-extends: not the page)",
       {0xb8, 0x00, 0x00, 0x60, 0xff},
       0x1000,
       FormKind::kNone,
       0,
       X86_REG_INVALID,
       false},
      {"call *%rax", {0xff, 0xd0}, 0x1000, FormKind::kRegisterCall, 0, X86_REG_RAX, false},
      {"jmp *%rax", {0xff, 0xe0}, 0x1000, FormKind::kRegisterJump, 0, X86_REG_RAX, false},
      {"call *%r11", {0x41, 0xff, 0xd3}, 0x1000, FormKind::kRegisterCall, 0, X86_REG_R11, false},
      {"call 0xffffffffff600000 (rel32)", rel32(0xe8, 0x400000, kP), 0x400000,
       FormKind::kDirectCall, kP, X86_REG_INVALID, false},
      {"jmp 0xffffffffff600400 (rel32)", rel32(0xe9, 0x401000, kP + 0x400), 0x401000,
       FormKind::kDirectJump, kP + 0x400, X86_REG_INVALID, false},
      {"call 0x401000 (an ordinary call)", rel32(0xe8, 0x400000, 0x401000), 0x400000,
       FormKind::kNone, 0, X86_REG_INVALID, false},
      {"call *0x100(%rip)",
       {0xff, 0x15, 0x00, 0x01, 0x00, 0x00},
       0x1000,
       FormKind::kMemoryCall,
       0x1006 + 0x100,
       X86_REG_INVALID,
       false},
      {"jmp *0x2000(%rip)",
       {0xff, 0x25, 0x00, 0x20, 0x00, 0x00},
       0x1000,
       FormKind::kMemoryJump,
       0x1006 + 0x2000,
       X86_REG_INVALID,
       false},
      {"mov 0x10(%rip),%rax (a data word)",
       {0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00},
       0x1000,
       FormKind::kDataLoad,
       0x1007 + 0x10,
       X86_REG_RAX,
       false},
      {"mov 0x601000,%rdx (absolute data word)",
       {0x48, 0x8b, 0x14, 0x25, 0x00, 0x10, 0x60, 0x00},
       0x1000,
       FormKind::kDataLoad,
       0x601000,
       X86_REG_RDX,
       false},
      {"jmp *0xffffffffff600000 (reads the page)",
       {0xff, 0x24, 0x25, 0x00, 0x00, 0x60, 0xff},
       0x1000,
       FormKind::kPageRead,
       kP,
       X86_REG_INVALID,
       false},
      {"movabs 0xffffffffff600808,%rax (moffs64)",
       {0x48, 0xa1, 0x08, 0x08, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff},
       0x1000,
       FormKind::kPageRead,
       kP + 0x808,
       X86_REG_INVALID,
       false},
      {"mov 0xffffffffff600400,%eax",
       {0x8b, 0x04, 0x25, 0x00, 0x04, 0x60, 0xff},
       0x1000,
       FormKind::kPageRead,
       kP + 0x400,
       X86_REG_INVALID,
       false},
      {"cmpb $0x48,0xffffffffff600000",
       {0x80, 0x3c, 0x25, 0x00, 0x00, 0x60, 0xff, 0x48},
       0x1000,
       FormKind::kPageRead,
       kP,
       X86_REG_INVALID,
       false},
      {"movdqu 0xffffffffff600400,%xmm0",
       {0xf3, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x04, 0x60, 0xff},
       0x1000,
       FormKind::kPageRead,
       kP + 0x400,
       X86_REG_INVALID,
       false},
      {"mov %fs:0xffffffffff600000,%rax (fs-relative: not the page)",
       {0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0xff},
       0x1000,
       FormKind::kNone,
       0,
       X86_REG_INVALID,
       false},
      {"mov (%rdi),%rax", {0x48, 0x8b, 0x07}, 0x1000, FormKind::kNone, 0, X86_REG_INVALID, false},
      {"add $0xffffffffff600000,%rax (not a load of the address)",
       {0x48, 0x05, 0x00, 0x00, 0x60, 0xff},
       0x1000,
       FormKind::kNone,
       0,
       X86_REG_INVALID,
       false},
  };
  Cs cs;
  for (const Row& r : rows) {
    SCOPED_TRACE(r.source);
    const cs_insn& insn = cs.decode(r.bytes, r.at);
    const InsnForm f = classify_insn(insn);
    EXPECT_EQ(form_kind_name(f.kind), form_kind_name(r.kind));
    EXPECT_EQ(f.address, r.address);
    EXPECT_EQ(f.reg, r.reg);
    EXPECT_EQ(f.imm64, r.imm64);
  }
}

TEST(X86Forms, DecodedInsnGivesTheSameFormAsCapstone) {
  const std::vector<uint8_t> b = {0x48, 0xc7, 0xc0, 0x00, 0x04, 0x60, 0xff};
  const auto d = thread_decoder().decode(b, 0x2000);
  ASSERT_TRUE(d.has_value());
  Cs cs;
  EXPECT_EQ(classify_insn(*d), classify_insn(cs.decode(b, 0x2000)));
}

TEST(X86Forms, RegisterTrackingEndsOnWritesAndLeavingTheLine) {
  struct Case {
    const char* source;
    std::vector<uint8_t> bytes;
    bool ends;
  };
  const Case cases[] = {
      {"xor %eax,%eax", {0x31, 0xc0}, true},
      {"mov %rdi,%rax", {0x48, 0x89, 0xf8}, true},
      {"mov $1,%al", {0xb0, 0x01}, true},
      {"mov %rax,%rdi", {0x48, 0x89, 0xc7}, false},
      {"sub $8,%rsp", {0x48, 0x83, 0xec, 0x08}, false},
      {"test %rax,%rax", {0x48, 0x85, 0xc0}, false},
      {"je +0x10 (may fall through)", {0x74, 0x10}, false},
      {"ret", {0xc3}, true},
      {"jmp +0x10", {0xeb, 0x10}, true},
      {"call +0", {0xe8, 0x00, 0x00, 0x00, 0x00}, true},
      {"syscall", {0x0f, 0x05}, true},
      {"cpuid (writes rax implicitly)", {0x0f, 0xa2}, true},
  };
  Cs cs;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.source);
    EXPECT_EQ(ends_register_tracking(cs.decode(c.bytes, 0x1000), X86_REG_RAX), c.ends);
  }
}

TEST(X86Forms, FullRegisterMapsSubRegisters) {
  EXPECT_EQ(full_register(X86_REG_EAX), X86_REG_RAX);
  EXPECT_EQ(full_register(X86_REG_AH), X86_REG_RAX);
  EXPECT_EQ(full_register(X86_REG_R11D), X86_REG_R11);
  EXPECT_EQ(full_register(X86_REG_SIL), X86_REG_RSI);
  EXPECT_EQ(full_register(X86_REG_RBX), X86_REG_RBX);
}

}  // namespace
}  // namespace vsyscall
