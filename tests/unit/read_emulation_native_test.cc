// Differential tests of emulate_read(): every case runs the same instruction bytes natively on
// a buffer holding the page image and through the emulator at the real page address, then
// compares all general registers, the arithmetic flags and DF, the vector registers (zmm0-31
// and k0-7 on AVX-512 hosts, else ymm0-15), the stack and a user buffer. The CPU is the
// reference, so flag and partial-register semantics cannot drift.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "tests/unit/native_exec.h"
#include "vsyscall/page.h"
#include "vsyscall/read_emulation.h"

namespace vsyscall {
namespace {

using testing::NativeRegs;

enum Reg : unsigned {
  RAX,
  RCX,
  RDX,
  RBX,
  RSP,
  RBP,
  RSI,
  RDI,
  R8,
  R9,
  R10,
  R11,
  R12,
  R13,
  R14,
  R15
};

constexpr uint64_t kFakeRip = 0x401000;
constexpr size_t kUserSize = 0x2000;

// Memory regions both runs share: [guard][page image, read-only][guard] for the native run,
// a user buffer and a stack that the emulator reaches through SelfMemory.
class Regions {
 public:
  Regions() {
    native_page_ = map(3 * kPageSize) + kPageSize;
    std::memcpy(native_page_, page_image().data(), kPageSize);
    mprotect(native_page_ - kPageSize, kPageSize, PROT_NONE);
    mprotect(native_page_, kPageSize, PROT_READ);
    mprotect(native_page_ + kPageSize, kPageSize, PROT_NONE);
    user_ = map(kUserSize + kPageSize);
    mprotect(user_ + kUserSize, kPageSize, PROT_NONE);
    stack_ = map(kPageSize);
  }
  ~Regions() {
    munmap(native_page_ - kPageSize, 3 * kPageSize);
    munmap(user_, kUserSize + kPageSize);
    munmap(stack_, kPageSize);
  }
  Regions(const Regions&) = delete;
  Regions& operator=(const Regions&) = delete;

  uint64_t native_page() const { return reinterpret_cast<uint64_t>(native_page_); }
  uint64_t user() const { return reinterpret_cast<uint64_t>(user_); }
  uint8_t* user_bytes() { return user_; }
  uint64_t stack_top() const { return reinterpret_cast<uint64_t>(stack_) + kPageSize - 256; }
  uint8_t* stack_bytes() { return stack_; }
  bool is_user(uint64_t a, uint64_t n) const {
    const auto inside = [&](uint64_t lo, uint64_t size) { return a >= lo && a + n <= lo + size; };
    return inside(user(), kUserSize) || inside(reinterpret_cast<uint64_t>(stack_), kPageSize);
  }

 private:
  static uint8_t* map(size_t n) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    return static_cast<uint8_t*>(p);
  }
  uint8_t* native_page_ = nullptr;
  uint8_t* user_ = nullptr;
  uint8_t* stack_ = nullptr;
};

Regions& regions() {
  static Regions r;
  return r;
}

// The emulator's view of this process's own user buffer and stack.
class SelfMemory : public Memory {
 public:
  bool read(uint64_t addr, std::span<uint8_t> out) override {
    if (!regions().is_user(addr, out.size())) return false;
    std::memcpy(out.data(), reinterpret_cast<const void*>(addr), out.size());
    return true;
  }
  bool write(uint64_t addr, std::span<const uint8_t> in) override {
    if (!regions().is_user(addr, in.size())) return false;
    std::memcpy(reinterpret_cast<void*>(addr), in.data(), in.size());
    return true;
  }
};

uint64_t page_qword(uint64_t off) {
  uint64_t v = 0;
  std::memcpy(&v, page_image().data() + (off & (kPageSize - 1)),
              std::min<uint64_t>(8, kPageSize - (off & (kPageSize - 1))));
  return v;
}

uint64_t mix(uint64_t x) {  // splitmix64: deterministic "random" register contents
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A starting state: `page_regs` hold offsets into the page (made absolute per run).
struct StartState {
  NativeRegs regs;
  std::vector<Reg> page_regs;
  std::vector<uint8_t> user = std::vector<uint8_t>(kUserSize, 0);
};

// Register contents that make compares hit equal/above/below/overflow at every width: the page
// bytes at `off` themselves, +-1, 0, the sign boundaries, then random.
StartState seeded(unsigned seed, uint64_t off) {
  StartState s;
  const uint64_t v = page_qword(off);
  for (unsigned i = 0; i < 16; ++i) {
    uint64_t x = 0;
    switch (seed) {
      case 0:
        x = v;
        break;
      case 1:
        x = v + 0x0101010101010101ULL;
        break;
      case 2:
        x = v - 0x0101010101010101ULL;
        break;
      case 3:
        x = 0;
        break;
      case 4:
        x = 0x8000000080008080ULL;
        break;
      case 5:
        x = 0x7fffffff7fff7f7fULL;
        break;
      default:
        x = mix(seed * 131 + i);
        break;
    }
    s.regs.gpr[i] = x;
  }
  for (unsigned r = 0; r < 32; ++r) {
    for (unsigned b = 0; b < 64; ++b) {
      const uint8_t page = page_image()[(off + b) & (kPageSize - 1)];
      uint8_t x = 0;
      switch (seed) {
        case 0:
          x = page;
          break;
        case 1:
          x = b % 2 ? page : static_cast<uint8_t>(page + 1);
          break;
        case 2:
          x = static_cast<uint8_t>(~page);
          break;
        case 3:
          x = 0;
          break;
        case 4:
          x = 0xff;
          break;
        default:
          x = static_cast<uint8_t>(mix(seed * 977 + r * 64 + b));
          break;
      }
      s.regs.zmm[r][b] = x;
    }
  }
  // Opmasks: all set, none, alternating, a prefix (what glibc builds with bzhi), random.
  static constexpr uint64_t kMasks[] = {~0ULL, 0, 0x5555555555555555ULL, 0xffff, 0x3fffffff};
  for (unsigned i = 0; i < 8; ++i) s.regs.k[i] = seed < 5 ? kMasks[(seed + i) % 5] : mix(seed + i);
  s.regs.gpr[RSP] = regions().stack_top();
  return s;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

bool avx512() {
  static const bool yes = testing::native_exec_avx512_available();
  return yes;
}

CpuState to_cpu_state(const NativeRegs& n) {
  CpuState st;
  Gpr& g = st.gpr;
  decltype(Gpr::rax)* fields[16] = {&g.rax, &g.rcx, &g.rdx, &g.rbx, &g.rsp, &g.rbp, &g.rsi, &g.rdi,
                                    &g.r8,  &g.r9,  &g.r10, &g.r11, &g.r12, &g.r13, &g.r14, &g.r15};
  for (unsigned i = 0; i < 16; ++i) *fields[i] = n.gpr[i];
  g.eflags = n.rflags;
  g.rip = kFakeRip;
  for (unsigned i = 0; i < 16; ++i) {
    std::copy_n(n.zmm[i].begin(), 32, st.vec.ymm[i].begin());
    std::copy_n(n.zmm[i].begin() + 32, 32, st.avx512.zmm_hi256[i].begin());
    st.avx512.hi16_zmm[i] = n.zmm[16 + i];
  }
  st.avx512.k = n.k;
  st.have_avx = true;
  st.have_avx512 = avx512();
  return st;
}

NativeRegs from_cpu_state(const CpuState& st) {
  NativeRegs n;
  const Gpr& g = st.gpr;
  const uint64_t v[16] = {g.rax, g.rcx, g.rdx, g.rbx, g.rsp, g.rbp, g.rsi, g.rdi,
                          g.r8,  g.r9,  g.r10, g.r11, g.r12, g.r13, g.r14, g.r15};
  for (unsigned i = 0; i < 16; ++i) n.gpr[i] = v[i];
  n.rflags = g.eflags;
  for (unsigned i = 0; i < 16; ++i) {
    std::copy_n(st.vec.ymm[i].begin(), 32, n.zmm[i].begin());
    std::copy_n(st.avx512.zmm_hi256[i].begin(), 32, n.zmm[i].begin() + 32);
    n.zmm[16 + i] = st.avx512.hi16_zmm[i];
  }
  n.k = st.avx512.k;
  return n;
}

// The vector state the native run can observe: ymm0-15, or all of zmm0-31 and k0-7.
bool same_vector(const NativeRegs& a, const NativeRegs& b, unsigned reg) {
  if (avx512()) return a.zmm[reg] == b.zmm[reg];
  return reg >= 16 || std::equal(a.zmm[reg].begin(), a.zmm[reg].begin() + 32, b.zmm[reg].begin());
}

// Runs `code` both ways from `setup` and compares everything observable.
void expect_same_as_cpu(std::span<const uint8_t> code, const StartState& setup,
                        const std::string& label) {
  Regions& rg = regions();
  std::vector<uint8_t> stack0(rg.stack_bytes(), rg.stack_bytes() + kPageSize);

  NativeRegs native = setup.regs;
  for (Reg r : setup.page_regs) native.gpr[r] += rg.native_page();
  std::memcpy(rg.user_bytes(), setup.user.data(), kUserSize);
  testing::native_exec(code, native, avx512());
  const std::vector<uint8_t> native_user(rg.user_bytes(), rg.user_bytes() + kUserSize);
  const std::vector<uint8_t> native_stack(rg.stack_bytes(), rg.stack_bytes() + kPageSize);

  NativeRegs start = setup.regs;
  for (Reg r : setup.page_regs) start.gpr[r] += kPageBase;
  std::memcpy(rg.user_bytes(), setup.user.data(), kUserSize);
  std::memcpy(rg.stack_bytes(), stack0.data(), kPageSize);
  CpuState st = to_cpu_state(start);
  SelfMemory mem;
  const ReadEmulation r = emulate_read(code, st, mem);
  ASSERT_EQ(r.status, ReadEmulation::Status::kDone)
      << label << ": " << r.instruction << ": " << r.reason;
  EXPECT_EQ(st.gpr.rip, kFakeRip + code.size()) << label;
  const NativeRegs emulated = from_cpu_state(st);
  for (unsigned i = 0; i < 16; ++i) {
    uint64_t want = native.gpr[i];
    uint64_t got = emulated.gpr[i];
    for (Reg p : setup.page_regs) {
      if (p == i) {
        want -= rg.native_page();
        got -= kPageBase;
      }
    }
    EXPECT_EQ(hex(got), hex(want)) << label << " (" << r.instruction << "): gpr " << i;
  }
  const uint64_t kChecked = kArithFlags | kFlagDF;
  EXPECT_EQ(hex(emulated.rflags & kChecked), hex(native.rflags & kChecked))
      << label << " (" << r.instruction << "): rflags";
  for (unsigned i = 0; i < 32; ++i) {
    EXPECT_TRUE(same_vector(emulated, native, i))
        << label << " (" << r.instruction << "): vector register " << i;
  }
  if (avx512()) {
    EXPECT_EQ(emulated.k, native.k) << label;
  }
  EXPECT_TRUE(std::equal(native_user.begin(), native_user.end(), rg.user_bytes()))
      << label << " (" << r.instruction << "): user memory differs";
  EXPECT_TRUE(std::equal(native_stack.begin(), native_stack.end(), rg.stack_bytes()))
      << label << " (" << r.instruction << "): stack differs";
  const bool vex = code[0] == 0xc4 || code[0] == 0xc5;
  bool any_vector_diff = false;
  for (unsigned i = 0; i < 32; ++i) any_vector_diff |= !same_vector(setup.regs, native, i);
  if (any_vector_diff) {
    EXPECT_TRUE(r.vector_changed) << label;
  }
  if (!vex) {
    EXPECT_EQ(r.zmm_upper_zeroed, 0) << label;
  }
}

#define SKIP_WITHOUT_NATIVE()                                            \
  do {                                                                   \
    if (!testing::native_exec_available()) GTEST_SKIP() << "needs AVX2"; \
  } while (0)

struct Insn {
  const char* text;
  std::vector<uint8_t> code;
};

// Integer loads/compares/ALU ops with the page pointer in rsi or rdi, over many offsets,
// register seeds and both CF values.
void run_integer(const std::vector<Insn>& insns, Reg page_reg) {
  static constexpr uint64_t kOffsets[] = {0x0,   0x1,   0x3,   0x6,   0x9,   0x3fd,
                                          0x400, 0x403, 0x7ff, 0x800, 0x805, 0xfe0};
  for (const Insn& insn : insns) {
    for (uint64_t off : kOffsets) {
      for (unsigned seed = 0; seed < 8; ++seed) {
        for (uint64_t cf : {uint64_t{0}, kFlagCF}) {
          StartState s = seeded(seed, off);
          s.regs.gpr[page_reg] = off;
          s.regs.gpr[RCX] = 3;  // index register of the [base + rcx*scale] forms
          s.regs.rflags = 0x202 | cf;
          s.page_regs = {page_reg};
          expect_same_as_cpu(insn.code, s,
                             std::string(insn.text) + " off=" + hex(off) +
                                 " seed=" + std::to_string(seed) + " cf=" + std::to_string(cf));
        }
      }
    }
  }
}

TEST(ReadEmulationNative, LoadsMatchCpu) {
  SKIP_WITHOUT_NATIVE();
  run_integer({{"mov rax, [rsi]", {0x48, 0x8b, 0x06}},
               {"mov eax, [rsi+4]", {0x8b, 0x46, 0x04}},
               {"mov ax, [rsi]", {0x66, 0x8b, 0x06}},
               {"mov al, [rsi]", {0x8a, 0x06}},
               {"mov ah, [rsi]", {0x8a, 0x26}},
               {"mov bh, [rsi+rcx*2+1]", {0x8a, 0x7c, 0x4e, 0x01}},
               {"mov r9b, [rsi]", {0x44, 0x8a, 0x0e}},
               {"movzx eax, byte ptr [rsi]", {0x0f, 0xb6, 0x06}},
               {"movzx rax, word ptr [rsi]", {0x48, 0x0f, 0xb7, 0x06}},
               {"movzx cx, byte ptr [rsi]", {0x66, 0x0f, 0xb6, 0x0e}},
               {"movsx rax, byte ptr [rsi]", {0x48, 0x0f, 0xbe, 0x06}},
               {"movsx eax, word ptr [rsi]", {0x0f, 0xbf, 0x06}},
               {"movsx ax, byte ptr [rsi]", {0x66, 0x0f, 0xbe, 0x06}},
               {"movsxd rax, dword ptr [rsi]", {0x48, 0x63, 0x06}},
               {"movbe rax, [rsi]", {0x48, 0x0f, 0x38, 0xf0, 0x06}},
               {"movbe eax, [rsi]", {0x0f, 0x38, 0xf0, 0x06}},
               {"movbe ax, [rsi]", {0x66, 0x0f, 0x38, 0xf0, 0x06}}},
              RSI);
  run_integer({{"mov sil, [rdi]", {0x40, 0x8a, 0x37}},
               {"mov r12, [rdi+rcx*8-8]", {0x4c, 0x8b, 0x64, 0xcf, 0xf8}}},
              RDI);
}

TEST(ReadEmulationNative, ComparesMatchCpu) {
  SKIP_WITHOUT_NATIVE();
  run_integer({{"cmp rax, [rsi]", {0x48, 0x3b, 0x06}},
               {"cmp eax, [rsi]", {0x3b, 0x06}},
               {"cmp ax, [rsi]", {0x66, 0x3b, 0x06}},
               {"cmp al, [rsi]", {0x3a, 0x06}},
               {"cmp [rsi], rax", {0x48, 0x39, 0x06}},
               {"cmp [rsi], ecx", {0x39, 0x0e}},
               {"test [rsi], al", {0x84, 0x06}},
               {"test [rsi], rax", {0x48, 0x85, 0x06}},
               {"test dword ptr [rsi], 0x80", {0xf7, 0x06, 0x80, 0x00, 0x00, 0x00}},
               {"test byte ptr [rsi], 0x01", {0xf6, 0x06, 0x01}}},
              RSI);
  run_integer({{"cmp byte ptr [rdi], 0x48", {0x80, 0x3f, 0x48}},
               {"cmp byte ptr [rdi], 0xcc", {0x80, 0x3f, 0xcc}},
               {"cmp qword ptr [rdi], -1", {0x48, 0x83, 0x3f, 0xff}},
               {"cmp dword ptr [rdi], 0x12345678", {0x81, 0x3f, 0x78, 0x56, 0x34, 0x12}},
               {"cmp word ptr [rdi], 0x7fff", {0x66, 0x81, 0x3f, 0xff, 0x7f}}},
              RDI);
}

TEST(ReadEmulationNative, ArithmeticMatchesCpu) {
  SKIP_WITHOUT_NATIVE();
  run_integer({{"add rax, [rsi]", {0x48, 0x03, 0x06}},
               {"add eax, [rsi]", {0x03, 0x06}},
               {"add cx, [rsi]", {0x66, 0x03, 0x0e}},
               {"add dl, [rsi]", {0x02, 0x16}},
               {"adc rax, [rsi]", {0x48, 0x13, 0x06}},
               {"adc bl, [rsi]", {0x12, 0x1e}},
               {"sub rax, [rsi]", {0x48, 0x2b, 0x06}},
               {"sub eax, [rsi]", {0x2b, 0x06}},
               {"sub r8w, [rsi]", {0x66, 0x44, 0x2b, 0x06}},
               {"sub ah, [rsi]", {0x2a, 0x26}},
               {"sbb rax, [rsi]", {0x48, 0x1b, 0x06}},
               {"sbb ecx, [rsi]", {0x1b, 0x0e}},
               {"and rax, [rsi]", {0x48, 0x23, 0x06}},
               {"and ecx, [rsi]", {0x23, 0x0e}},
               {"or rax, [rsi]", {0x48, 0x0b, 0x06}},
               {"or dl, [rsi]", {0x0a, 0x16}},
               {"xor rax, [rsi]", {0x48, 0x33, 0x06}},
               {"xor r10d, [rsi]", {0x44, 0x33, 0x16}}},
              RSI);
}

TEST(ReadEmulationNative, PushMatchesCpu) {
  SKIP_WITHOUT_NATIVE();
  run_integer({{"push qword ptr [rsi]", {0xff, 0x36}}, {"push word ptr [rsi]", {0x66, 0xff, 0x36}}},
              RSI);
}

// A string-instruction state: rsi (page or user offset), rdi, rcx, DF, and a user buffer that
// mirrors the page image (user[j] == image[j % 4096]) except where the case changes it.
struct StringCase {
  const char* text;
  std::vector<uint8_t> code;
  uint64_t rsi;
  bool rsi_in_page;
  uint64_t rdi;
  bool rdi_in_page;
  uint64_t rcx;
  bool df;
  uint64_t rax = 0;
  std::vector<std::pair<size_t, uint8_t>> user_changes = {};
  bool invert_user = false;  // user[j] = ~image[j] (repne cmps finds the equal spot)
};

void run_string(const StringCase& c) {
  for (unsigned seed : {3u, 9u}) {
    StartState s = seeded(seed, 0);
    s.regs.gpr[RSI] = c.rsi_in_page ? c.rsi : regions().user() + c.rsi;
    s.regs.gpr[RDI] = c.rdi_in_page ? c.rdi : regions().user() + c.rdi;
    s.regs.gpr[RCX] = c.rcx;
    s.regs.gpr[RAX] = c.rax;
    s.regs.rflags = 0x202 | (c.df ? kFlagDF : 0) | (seed == 9 ? kFlagCF | kFlagZF : 0);
    if (c.rsi_in_page) s.page_regs.push_back(RSI);
    if (c.rdi_in_page) s.page_regs.push_back(RDI);
    for (size_t j = 0; j < kUserSize; ++j) {
      const uint8_t b = page_image()[j % kPageSize];
      s.user[j] = c.invert_user ? static_cast<uint8_t>(~b) : b;
    }
    for (const auto& [at, v] : c.user_changes) s.user[at] = v;
    expect_same_as_cpu(c.code, s, std::string(c.text) + " seed=" + std::to_string(seed));
  }
}

const std::vector<uint8_t> kLodsb = {0xac}, kLodsw = {0x66, 0xad}, kLodsd = {0xad},
                           kLodsq = {0x48, 0xad}, kRepLodsb = {0xf3, 0xac}, kMovsb = {0xa4},
                           kMovsq = {0x48, 0xa5}, kRepMovsb = {0xf3, 0xa4},
                           kRepMovsd = {0xf3, 0xa5}, kRepMovsq = {0xf3, 0x48, 0xa5},
                           kCmpsb = {0xa6}, kCmpsq = {0x48, 0xa7}, kRepeCmpsb = {0xf3, 0xa6},
                           kRepneCmpsb = {0xf2, 0xa6}, kRepeCmpsd = {0xf3, 0xa7},
                           kRepeCmpsq = {0xf3, 0x48, 0xa7}, kScasb = {0xae}, kScasd = {0xaf},
                           kRepneScasb = {0xf2, 0xae}, kRepeScasb = {0xf3, 0xae},
                           kRepneScasq = {0xf2, 0x48, 0xaf};

TEST(ReadEmulationNative, LodsMatchesCpu) {
  SKIP_WITHOUT_NATIVE();
  for (bool df : {false, true}) {
    run_string({"lodsb", kLodsb, 0x401, true, 0, false, 7, df});
    run_string({"lodsw", kLodsw, 0x7ff, true, 0, false, 7, df});
    run_string({"lodsd", kLodsd, 0x3, true, 0, false, 7, df});
    run_string({"lodsq", kLodsq, 0x802, true, 0, false, 7, df});
    for (uint64_t rcx : {0, 1, 5, 32}) {
      run_string({"rep lodsb", kRepLodsb, 0x410, true, 0, false, rcx, df});
    }
  }
}

TEST(ReadEmulationNative, MovsMatchesCpu) {
  SKIP_WITHOUT_NATIVE();
  for (bool df : {false, true}) {
    run_string({"movsb", kMovsb, 0x400, true, 0x100, false, 9, df});
    run_string({"movsq", kMovsq, 0x3fd, true, 0x101, false, 9, df});
    for (uint64_t rcx : {0, 1, 7, 32, 100}) {
      run_string({"rep movsb", kRepMovsb, 0x7f0, true, 0x800, false, rcx, df});
      run_string({"rep movsd", kRepMovsd, 0x3f1, true, 0x803, false, rcx, df});
      run_string({"rep movsq", kRepMovsq, 0x400, true, 0x900, false, rcx, df});
    }
    // Crossing a 4 KiB boundary of the destination.
    run_string({"rep movsb", kRepMovsb, 0x300, true, df ? 0x1010u : 0xff0u, false, 64, df});
  }
}

TEST(ReadEmulationNative, CmpsMatchesCpu) {
  SKIP_WITHOUT_NATIVE();
  for (bool df : {false, true}) {
    run_string({"cmpsb equal", kCmpsb, 0x400, true, 0x400, false, 5, df});
    run_string({"cmpsb differs", kCmpsb, 0x400, true, 0x400, false, 5, df, 0, {{0x400, 0x47}}});
    run_string({"cmpsq", kCmpsq, 0x800, true, 0x800, false, 5, df, 0, {{0x803, 0x01}}});
    // repe: runs to rcx = 0, or stops at the first difference (before, at, or past the entry).
    for (size_t diff : {0x3f8, 0x3fc, 0x400, 0x405, 0x409, 0x40f}) {
      run_string(
          {"repe cmpsb", kRepeCmpsb, 0x3f8, true, 0x3f8, false, 32, false, 0, {{diff, 0x00}}});
      run_string(
          {"repe cmpsb down", kRepeCmpsb, 0x417, true, 0x417, false, 32, true, 0, {{diff, 0x00}}});
    }
    run_string({"repe cmpsb all equal", kRepeCmpsb, 0x3f8, true, 0x3f8, false, 32, df});
    run_string({"repe cmpsb rcx=0", kRepeCmpsb, 0x3f8, true, 0x3f8, false, 0, df});
    run_string({"repe cmpsd", kRepeCmpsd, 0x800, true, 0x800, false, 8, df, 0, {{0x806, 0x35}}});
    run_string({"repe cmpsq", kRepeCmpsq, 0x7f0, true, 0x7f0, false, 6, df, 0, {{0x80a, 0}}});
    // repne: stops at the first equal element.
    run_string(
        {"repne cmpsb", kRepneCmpsb, 0x3f8, true, 0x3f8, false, 32, df, 0, {{0x402, 0xc0}}, true});
    // The page may be either operand of cmps.
    run_string(
        {"repe cmpsb user first", kRepeCmpsb, 0x3f8, false, 0x3f8, true, 32, df, 0, {{0x401, 0}}});
  }
}

TEST(ReadEmulationNative, ScasMatchesCpu) {
  SKIP_WITHOUT_NATIVE();
  for (bool df : {false, true}) {
    run_string({"scasb", kScasb, 0, false, 0x400, true, 3, df, 0x48});
    run_string({"scasb", kScasb, 0, false, 0x400, true, 3, df, 0x49});
    run_string({"scasd", kScasd, 0, false, 0x801, true, 3, df, 0xffffffff0000c7c0ULL});
    run_string(
        {"repne scasb ret", kRepneScasb, 0, false, df ? 0x40au : 0x3f0u, true, 100, df, 0xc3});
    run_string({"repne scasb none", kRepneScasb, 0, false, 0x410, true, 20, df, 0x11});
    run_string({"repe scasb int3", kRepeScasb, 0, false, df ? 0x40fu : 0x3f0u, true, 50, df, 0xcc});
    run_string({"repne scasq", kRepneScasq, 0, false, 0x3f8, true, 4, df, 0x000000c3050f0000});
  }
}

// Vector loads: aligned offsets for everything, unaligned ones for the unaligned forms.
// `reach` is the widest read any of the instructions does.
void run_vector(const std::vector<Insn>& insns, bool aligned_only, uint64_t reach = 32) {
  static constexpr uint64_t kAligned[] = {0x0, 0x3c0, 0x3e0, 0x400, 0x7e0, 0x800, 0xfc0, 0xfe0};
  static constexpr uint64_t kUnaligned[] = {0x1, 0x3f9, 0x7f7, 0xbff, 0xfbf, 0xfdf};
  for (const Insn& insn : insns) {
    std::vector<uint64_t> offsets(std::begin(kAligned), std::end(kAligned));
    if (!aligned_only) offsets.insert(offsets.end(), std::begin(kUnaligned), std::end(kUnaligned));
    for (uint64_t off : offsets) {
      if (off + reach > kPageSize) continue;
      for (unsigned seed = 0; seed < 7; ++seed) {
        StartState s = seeded(seed, off);
        s.regs.gpr[RSI] = off;
        s.page_regs = {RSI};
        s.regs.rflags = 0x202 | kFlagCF | kFlagOF | kFlagAF;
        expect_same_as_cpu(
            insn.code, s,
            std::string(insn.text) + " off=" + hex(off) + " seed=" + std::to_string(seed));
      }
    }
  }
}

TEST(ReadEmulationNative, SseLoadsMatchCpu) {
  SKIP_WITHOUT_NATIVE();
  run_vector({{"movdqu xmm0, [rsi]", {0xf3, 0x0f, 0x6f, 0x06}},
              {"movups xmm2, [rsi]", {0x0f, 0x10, 0x16}},
              {"movupd xmm4, [rsi]", {0x66, 0x0f, 0x10, 0x26}},
              {"lddqu xmm6, [rsi]", {0xf2, 0x0f, 0xf0, 0x36}},
              {"movq xmm8, [rsi]", {0xf3, 0x44, 0x0f, 0x7e, 0x06}},
              {"movd xmm9, [rsi]", {0x66, 0x44, 0x0f, 0x6e, 0x0e}},
              {"movss xmm10, [rsi]", {0xf3, 0x44, 0x0f, 0x10, 0x16}},
              {"movsd xmm11, [rsi]", {0xf2, 0x44, 0x0f, 0x10, 0x1e}},
              {"movlps xmm12, [rsi]", {0x44, 0x0f, 0x12, 0x26}},
              {"movhps xmm13, [rsi]", {0x44, 0x0f, 0x16, 0x2e}},
              {"movlpd xmm14, [rsi]", {0x66, 0x44, 0x0f, 0x12, 0x36}},
              {"movhpd xmm15, [rsi]", {0x66, 0x44, 0x0f, 0x16, 0x3e}}},
             false);
  run_vector({{"movdqa xmm1, [rsi]", {0x66, 0x0f, 0x6f, 0x0e}},
              {"movaps xmm3, [rsi]", {0x0f, 0x28, 0x1e}},
              {"movapd xmm5, [rsi]", {0x66, 0x0f, 0x28, 0x2e}},
              {"movntdqa xmm7, [rsi]", {0x66, 0x0f, 0x38, 0x2a, 0x3e}}},
             true);
}

TEST(ReadEmulationNative, SsePackedOpsMatchCpu) {
  SKIP_WITHOUT_NATIVE();
  run_vector({{"pcmpeqb xmm0, [rsi]", {0x66, 0x0f, 0x74, 0x06}},
              {"pcmpeqw xmm1, [rsi]", {0x66, 0x0f, 0x75, 0x0e}},
              {"pcmpeqd xmm2, [rsi]", {0x66, 0x0f, 0x76, 0x16}},
              {"pcmpeqq xmm3, [rsi]", {0x66, 0x0f, 0x38, 0x29, 0x1e}},
              {"pminub xmm4, [rsi]", {0x66, 0x0f, 0xda, 0x26}},
              {"pmaxub xmm5, [rsi]", {0x66, 0x0f, 0xde, 0x2e}},
              {"pand xmm6, [rsi]", {0x66, 0x0f, 0xdb, 0x36}},
              {"pandn xmm7, [rsi]", {0x66, 0x0f, 0xdf, 0x3e}},
              {"por xmm8, [rsi]", {0x66, 0x44, 0x0f, 0xeb, 0x06}},
              {"pxor xmm9, [rsi]", {0x66, 0x44, 0x0f, 0xef, 0x0e}},
              {"psubb xmm10, [rsi]", {0x66, 0x44, 0x0f, 0xf8, 0x16}},
              {"ptest xmm11, [rsi]", {0x66, 0x44, 0x0f, 0x38, 0x17, 0x1e}}},
             true);
}

TEST(ReadEmulationNative, AvxLoadsMatchCpu) {
  SKIP_WITHOUT_NATIVE();
  run_vector({{"vmovdqu xmm0, [rsi]", {0xc5, 0xfa, 0x6f, 0x06}},
              {"vmovdqu ymm1, [rsi]", {0xc5, 0xfe, 0x6f, 0x0e}},
              {"vmovups ymm4, [rsi]", {0xc5, 0xfc, 0x10, 0x26}},
              {"vmovupd xmm6, [rsi]", {0xc5, 0xf9, 0x10, 0x36}},
              {"vlddqu ymm8, [rsi]", {0xc5, 0x7f, 0xf0, 0x06}},
              {"vmovq xmm10, [rsi]", {0xc5, 0x7a, 0x7e, 0x16}},
              {"vmovd xmm11, [rsi]", {0xc5, 0x79, 0x6e, 0x1e}},
              {"vmovss xmm12, [rsi]", {0xc5, 0x7a, 0x10, 0x26}},
              {"vmovsd xmm13, [rsi]", {0xc5, 0x7b, 0x10, 0x2e}},
              {"vmovlps xmm14, xmm1, [rsi]", {0xc5, 0x70, 0x12, 0x36}},
              {"vmovhps xmm15, xmm2, [rsi]", {0xc5, 0x68, 0x16, 0x3e}},
              {"vmovlpd xmm0, xmm3, [rsi]", {0xc5, 0xe1, 0x12, 0x06}},
              {"vmovhpd xmm1, xmm4, [rsi]", {0xc5, 0xd9, 0x16, 0x0e}}},
             false);
  run_vector({{"vmovdqa ymm2, [rsi]", {0xc5, 0xfd, 0x6f, 0x16}},
              {"vmovdqa xmm3, [rsi]", {0xc5, 0xf9, 0x6f, 0x1e}},
              {"vmovaps ymm5, [rsi]", {0xc5, 0xfc, 0x28, 0x2e}},
              {"vmovapd ymm7, [rsi]", {0xc5, 0xfd, 0x28, 0x3e}},
              {"vmovntdqa ymm9, [rsi]", {0xc4, 0x62, 0x7d, 0x2a, 0x0e}}},
             true);
}

TEST(ReadEmulationNative, AvxPackedOpsMatchCpu) {
  SKIP_WITHOUT_NATIVE();
  run_vector({{"vpcmpeqb ymm1, ymm2, [rsi]", {0xc5, 0xed, 0x74, 0x0e}},
              {"vpcmpeqb xmm3, xmm3, [rsi]", {0xc5, 0xe1, 0x74, 0x1e}},
              {"vpcmpeqw ymm4, ymm5, [rsi]", {0xc5, 0xd5, 0x75, 0x26}},
              {"vpcmpeqd ymm6, ymm7, [rsi]", {0xc5, 0xc5, 0x76, 0x36}},
              {"vpcmpeqq ymm8, ymm9, [rsi]", {0xc4, 0x62, 0x35, 0x29, 0x06}},
              {"vpminub ymm10, ymm11, [rsi]", {0xc5, 0x25, 0xda, 0x16}},
              {"vpminub xmm12, xmm13, [rsi]", {0xc5, 0x11, 0xda, 0x26}},
              {"vpmaxub ymm14, ymm15, [rsi]", {0xc5, 0x05, 0xde, 0x36}},
              {"vpand ymm0, ymm1, [rsi]", {0xc5, 0xf5, 0xdb, 0x06}},
              {"vpandn ymm2, ymm3, [rsi]", {0xc5, 0xe5, 0xdf, 0x16}},
              {"vpor xmm4, xmm5, [rsi]", {0xc5, 0xd1, 0xeb, 0x26}},
              {"vpxor ymm6, ymm7, [rsi]", {0xc5, 0xc5, 0xef, 0x36}},
              {"vpsubb ymm8, ymm9, [rsi]", {0xc5, 0x35, 0xf8, 0x06}},
              {"vptest ymm10, [rsi]", {0xc4, 0x62, 0x7d, 0x17, 0x16}},
              {"vptest xmm11, [rsi]", {0xc4, 0x62, 0x79, 0x17, 0x1e}}},
             false);
}

#define SKIP_WITHOUT_AVX512()                               \
  do {                                                      \
    if (!avx512()) GTEST_SKIP() << "needs AVX-512 F/BW/VL"; \
  } while (0)

TEST(ReadEmulationNative, EvexLoadsMatchCpu) {
  SKIP_WITHOUT_AVX512();
  run_vector({{"vmovdqu8 ymm18{k2}, [rsi]", {0x62, 0xe1, 0x7f, 0x2a, 0x6f, 0x16}},
              {"vmovdqu8 ymm18{k2}{z}, [rsi]", {0x62, 0xe1, 0x7f, 0xaa, 0x6f, 0x16}},
              {"vmovdqu8 xmm18{k2}, [rsi]", {0x62, 0xe1, 0x7f, 0x0a, 0x6f, 0x16}},
              {"vmovdqu64 ymm17, [rsi]", {0x62, 0xe1, 0xfe, 0x28, 0x6f, 0x0e}},
              {"vmovdqu64 zmm17, [rsi]", {0x62, 0xe1, 0xfe, 0x48, 0x6f, 0x0e}},
              {"vmovdqu8 zmm1, [rsi]", {0x62, 0xf1, 0x7f, 0x48, 0x6f, 0x0e}},
              {"vmovdqu16 xmm3{k1}, [rsi]", {0x62, 0xf1, 0xff, 0x09, 0x6f, 0x1e}},
              {"vmovdqu32 ymm3, [rsi]", {0x62, 0xf1, 0x7e, 0x28, 0x6f, 0x1e}},
              {"vmovdqu32 zmm5{k3}, [rsi]", {0x62, 0xf1, 0x7e, 0x4b, 0x6f, 0x2e}},
              {"vmovups ymm17, [rsi]", {0x62, 0xe1, 0x7c, 0x28, 0x10, 0x0e}},
              {"vmovupd zmm30{k4}{z}, [rsi]", {0x62, 0x61, 0xfd, 0xcc, 0x10, 0x36}}},
             false, 64);
  run_vector({{"vmovdqa64 ymm19, [rsi]", {0x62, 0xe1, 0xfd, 0x28, 0x6f, 0x1e}},
              {"vmovaps xmm16, [rsi]", {0x62, 0xe1, 0x7c, 0x08, 0x28, 0x06}}},
             true, 64);
}

TEST(ReadEmulationNative, EvexMaskedLoadAtThePageEndDoesNotFault) {
  SKIP_WITHOUT_AVX512();
  // glibc's __memcmp_evex_movbe for n < 32: vmovdqu8 ymm18{k2}, [rsi] with k2 = (1 << n) - 1.
  // The native buffer has a guard page after it, so the CPU proves that masked-off bytes past
  // the end are not touched.
  const std::vector<uint8_t> code = {0x62, 0xe1, 0x7f, 0x2a, 0x6f, 0x16};
  for (uint64_t n : {1, 7, 16}) {
    StartState s = seeded(7, 0);
    s.regs.gpr[RSI] = kPageSize - n;
    s.page_regs = {RSI};
    s.regs.k[2] = (1ULL << n) - 1;
    expect_same_as_cpu(code, s, "masked load of the last " + std::to_string(n) + " bytes");
  }
  // glibc's form with an index: vmovdqu8 ymm18{k2}, [rsi + rdx - 0x20].
  StartState s = seeded(8, 0);
  s.regs.gpr[RSI] = 0xfe0;
  s.regs.gpr[RDX] = 0x28;
  s.page_regs = {RSI};
  s.regs.k[2] = 0xffffff;
  expect_same_as_cpu(std::vector<uint8_t>{0x62, 0xe1, 0x7f, 0x2a, 0x6f, 0x54, 0x16, 0xff}, s,
                     "indexed masked load");
}

TEST(ReadEmulationNative, EvexComparesTestsAndLogicMatchCpu) {
  SKIP_WITHOUT_AVX512();
  run_vector(
      {
          {"vpcmpeqb k1, ymm17, [rsi]", {0x62, 0xf1, 0x75, 0x20, 0x74, 0x0e}},
          {"vpcmpeqb k1{k2}, ymm17, [rsi]", {0x62, 0xf1, 0x75, 0x22, 0x74, 0x0e}},
          {"vpcmpeqb k0, zmm16, [rsi]", {0x62, 0xf1, 0x7d, 0x40, 0x74, 0x06}},
          {"vpcmpeqw k1, xmm3, [rsi]", {0x62, 0xf1, 0x65, 0x08, 0x75, 0x0e}},
          {"vpcmpeqd k1{k3}, ymm3, [rsi]", {0x62, 0xf1, 0x65, 0x2b, 0x76, 0x0e}},
          {"vpcmpeqq k1, zmm20, [rsi]", {0x62, 0xf2, 0xdd, 0x40, 0x29, 0x0e}},
          {"vpcmpgtb k1, ymm17, [rsi]", {0x62, 0xf1, 0x75, 0x20, 0x64, 0x0e}},
          {"vpcmpgtw k2, zmm17, [rsi]", {0x62, 0xf1, 0x75, 0x40, 0x65, 0x16}},
          {"vpcmpgtd k1, ymm17, [rsi]", {0x62, 0xf1, 0x75, 0x20, 0x66, 0x0e}},
          {"vpcmpgtq k1, ymm17, [rsi]", {0x62, 0xf2, 0xf5, 0x20, 0x37, 0x0e}},
          {"vpcmpub k1{k2}, ymm18, [rsi], 4", {0x62, 0xf3, 0x6d, 0x22, 0x3e, 0x0e, 0x04}},
          {"vpcmpub k1, ymm18, [rsi], 1", {0x62, 0xf3, 0x6d, 0x20, 0x3e, 0x0e, 0x01}},
          {"vpcmpub k1, zmm18, [rsi], 2", {0x62, 0xf3, 0x6d, 0x40, 0x3e, 0x0e, 0x02}},
          {"vpcmpub k3, ymm18, [rsi], 5", {0x62, 0xf3, 0x6d, 0x20, 0x3e, 0x1e, 0x05}},
          {"vpcmpub k3, ymm18, [rsi], 6", {0x62, 0xf3, 0x6d, 0x20, 0x3e, 0x1e, 0x06}},
          {"vpcmpb k1, ymm18, [rsi], 1", {0x62, 0xf3, 0x6d, 0x20, 0x3f, 0x0e, 0x01}},
          {"vpcmpb k1, ymm18, [rsi], 6", {0x62, 0xf3, 0x6d, 0x20, 0x3f, 0x0e, 0x06}},
          {"vpcmpuw k1, ymm18, [rsi], 1", {0x62, 0xf3, 0xed, 0x20, 0x3e, 0x0e, 0x01}},
          {"vpcmpw k1, ymm18, [rsi], 2", {0x62, 0xf3, 0xed, 0x20, 0x3f, 0x0e, 0x02}},
          {"vpcmpd k1, ymm18, [rsi], 1", {0x62, 0xf3, 0x6d, 0x20, 0x1f, 0x0e, 0x01}},
          {"vpcmpud k1, ymm18, [rsi], 1", {0x62, 0xf3, 0x6d, 0x20, 0x1e, 0x0e, 0x01}},
          {"vpcmpq k1, zmm18, [rsi], 5", {0x62, 0xf3, 0xed, 0x40, 0x1f, 0x0e, 0x05}},
          {"vpcmpuq k1{k4}, zmm18, [rsi], 6", {0x62, 0xf3, 0xed, 0x44, 0x1e, 0x0e, 0x06}},
          {"vpcmpub k1, ymm18, [rsi], 3", {0x62, 0xf3, 0x6d, 0x20, 0x3e, 0x0e, 0x03}},
          {"vpcmpub k1, ymm18, [rsi], 7", {0x62, 0xf3, 0x6d, 0x20, 0x3e, 0x0e, 0x07}},
          {"vptestmb k1, ymm17, [rsi]", {0x62, 0xf2, 0x75, 0x20, 0x26, 0x0e}},
          {"vptestnmb k1{k2}, ymm17, [rsi]", {0x62, 0xf2, 0x76, 0x22, 0x26, 0x0e}},
          {"vptestmw k1, zmm17, [rsi]", {0x62, 0xf2, 0xf5, 0x40, 0x26, 0x0e}},
          {"vptestnmw k1, ymm17, [rsi]", {0x62, 0xf2, 0xf6, 0x20, 0x26, 0x0e}},
          {"vptestmd k1, ymm17, [rsi]", {0x62, 0xf2, 0x75, 0x20, 0x27, 0x0e}},
          {"vptestnmq k1, zmm17, [rsi]", {0x62, 0xf2, 0xf6, 0x40, 0x27, 0x0e}},
          {"vpxorq ymm17, ymm17, [rsi]", {0x62, 0xe1, 0xf5, 0x20, 0xef, 0x0e}},
          {"vpxord zmm1{k2}, zmm2, [rsi]", {0x62, 0xf1, 0x6d, 0x4a, 0xef, 0x0e}},
          {"vporq ymm20{k3}{z}, ymm21, [rsi]", {0x62, 0xe1, 0xd5, 0xa3, 0xeb, 0x26}},
          {"vpandd xmm17, xmm18, [rsi]", {0x62, 0xe1, 0x6d, 0x00, 0xdb, 0x0e}},
          {"vpandnq ymm17, ymm18, [rsi]", {0x62, 0xe1, 0xed, 0x20, 0xdf, 0x0e}},
          {"vpminub ymm20, ymm19, [rsi]", {0x62, 0xe1, 0x65, 0x20, 0xda, 0x26}},
          {"vpminub zmm20{k2}, zmm19, [rsi]", {0x62, 0xe1, 0x65, 0x42, 0xda, 0x26}},
          {"vpmaxub ymm20{k1}{z}, ymm19, [rsi]", {0x62, 0xe1, 0x65, 0xa1, 0xde, 0x26}},
          {"vpsubb ymm20, ymm19, [rsi]", {0x62, 0xe1, 0x65, 0x20, 0xf8, 0x26}},
          {"vpternlogd ymm20, ymm17, [rsi], 0xde", {0x62, 0xe3, 0x75, 0x20, 0x25, 0x26, 0xde}},
          {"vpternlogq zmm20{k2}, zmm17, [rsi], 0x96", {0x62, 0xe3, 0xf5, 0x42, 0x25, 0x26, 0x96}},
          {"vpternlogd ymm20{k1}{z}, ymm17, [rsi], 0xfe",
           {0x62, 0xe3, 0x75, 0xa1, 0x25, 0x26, 0xfe}},
          // Truth tables that tell the destination from the memory operand apart.
          {"vpternlogd ymm20, ymm17, [rsi], 0xca", {0x62, 0xe3, 0x75, 0x20, 0x25, 0x26, 0xca}},
          {"vpternlogq zmm3{k2}, zmm17, [rsi], 0xd8", {0x62, 0xf3, 0xf5, 0x42, 0x25, 0x1e, 0xd8}},
          {"vpternlogd xmm20{k1}{z}, xmm1, [rsi], 0x1e",
           {0x62, 0xe3, 0x75, 0x89, 0x25, 0x26, 0x1e}},
      },
      false, 64);
}

TEST(ReadEmulationNative, EvexGlibcMemcmpFormsMatchCpu) {
  SKIP_WITHOUT_AVX512();
  // __memcmp_evex_movbe with the page as the first argument (rdi), and __strlen_evex.
  const Insn insns[] = {
      {"vpcmpub k1{k2}, ymm18, [rdi], 4", {0x62, 0xf3, 0x6d, 0x22, 0x3e, 0x0f, 0x04}},
      {"vpcmpub k1, ymm20, [rdi+0x60], 4", {0x62, 0xf3, 0x5d, 0x20, 0x3e, 0x4f, 0x03, 0x04}},
      {"vpcmpub k1, ymm17, [rdi+rdx-0x20], 4",
       {0x62, 0xf3, 0x75, 0x20, 0x3e, 0x4c, 0x17, 0xff, 0x04}},
      {"vpternlogd ymm20, ymm17, [rdi+0x60], 0xde",
       {0x62, 0xe3, 0x75, 0x20, 0x25, 0x67, 0x03, 0xde}},
      {"vpcmpeqb k0, ymm16, [rdi]", {0x62, 0xf1, 0x7d, 0x20, 0x74, 0x07}},
      {"vpxorq ymm17, ymm17, [rdi+0x20]", {0x62, 0xe1, 0xf5, 0x20, 0xef, 0x4f, 0x01}},
  };
  for (const Insn& insn : insns) {
    for (uint64_t off : {0x0, 0x3e0, 0x7a0, 0xf00}) {
      for (unsigned seed = 0; seed < 7; ++seed) {
        StartState s = seeded(seed, off);
        s.regs.gpr[RDI] = off;
        s.regs.gpr[RDX] = 0x40;
        s.page_regs = {RDI};
        expect_same_as_cpu(
            insn.code, s,
            std::string(insn.text) + " off=" + hex(off) + " seed=" + std::to_string(seed));
      }
    }
  }
  // n < 32 at the very end of the page: only the first n bytes are compared, and read.
  for (uint64_t n : {1, 9, 31}) {
    StartState s = seeded(5, 0);
    s.regs.gpr[RDI] = kPageSize - n;
    s.page_regs = {RDI};
    s.regs.k[2] = (1ULL << n) - 1;
    expect_same_as_cpu(insns[0].code, s, "masked vpcmpub of the last " + std::to_string(n));
  }
}

}  // namespace
}  // namespace vsyscall
