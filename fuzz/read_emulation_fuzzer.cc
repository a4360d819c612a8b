// libFuzzer target for vsyscall::emulate_read(): arbitrary instruction bytes and register
// state, with registers steered into the vsyscall page so that most inputs read it. Checks:
// - nothing but kDone changes the CPU state, and kUnsupported/kWritesPage write no memory;
// - no write ever reaches the page or a non-user address, and kDone advances rip by 1..15;
// - a plain load that kDone reports (mov/movabs/movzx/movsx/movsxd into a 32/64-bit register,
//   an SSE/AVX full-register move, lods, push) produced exactly the bytes of page_image() at
//   the address this file computes itself from Capstone's operands.
#include <capstone/capstone.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <string_view>
#include <vector>

#include "vsyscall/page.h"
#include "vsyscall/read_emulation.h"

namespace {

using vsyscall::CpuState;
using vsyscall::ReadEmulation;

// A small, flat piece of user memory (the code and the buffers the registers may point at).
constexpr uint64_t kUserBase = 0x10000;
constexpr uint64_t kUserSize = 0x4000;
constexpr uint64_t kRip = kUserBase + 0x100;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "read_emulation_fuzzer: check failed: %s\n", what);
    std::abort();
  }
}

class FlatMemory : public vsyscall::Memory {
 public:
  FlatMemory() : bytes_(kUserSize) {}
  bool read(uint64_t addr, std::span<uint8_t> out) override {
    if (!inside(addr, out.size())) return false;
    std::memcpy(out.data(), &bytes_[addr - kUserBase], out.size());
    return true;
  }
  bool write(uint64_t addr, std::span<const uint8_t> in) override {
    check(addr >= vsyscall::kPageEnd || addr + (in.size() ? in.size() : 1) <= vsyscall::kPageBase,
          "Memory::write into the vsyscall page");
    check(vsyscall::user_range_ok(addr, in.size()), "Memory::write outside user space");
    ++writes;
    if (!inside(addr, in.size())) return false;
    std::memcpy(&bytes_[addr - kUserBase], in.data(), in.size());
    last_write.assign(in.begin(), in.end());
    last_write_addr = addr;
    return true;
  }
  std::vector<uint8_t> bytes_;
  int writes = 0;
  std::vector<uint8_t> last_write;
  uint64_t last_write_addr = 0;

 private:
  static bool inside(uint64_t addr, uint64_t n) {
    return addr >= kUserBase && n <= kUserSize && addr - kUserBase <= kUserSize - n;
  }
};

// Consumes the fuzzer's bytes front to back; zeros once they run out.
struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint64_t word(unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v |= uint64_t{byte()} << (8 * i);
    return v;
  }
};

// A register value: mostly an address in the page or in the user buffer, sometimes raw.
uint64_t steered_value(Input& in) {
  const uint8_t how = in.byte();
  switch (how & 3) {
    case 0:
      return vsyscall::kPageBase + (in.word(2) & 0xfff);
    case 1:
      return kUserBase + (in.word(2) % kUserSize);
    case 2:
      return in.word(1);  // small: counts, indexes
    default:
      return in.word(8);
  }
}

unsigned long long* gpr64(vsyscall::Gpr& g, unsigned cs_reg) {
  switch (cs_reg) {
    case X86_REG_RAX:
    case X86_REG_EAX:
      return &g.rax;
    case X86_REG_RBX:
    case X86_REG_EBX:
      return &g.rbx;
    case X86_REG_RCX:
    case X86_REG_ECX:
      return &g.rcx;
    case X86_REG_RDX:
    case X86_REG_EDX:
      return &g.rdx;
    case X86_REG_RSI:
    case X86_REG_ESI:
      return &g.rsi;
    case X86_REG_RDI:
    case X86_REG_EDI:
      return &g.rdi;
    case X86_REG_RBP:
    case X86_REG_EBP:
      return &g.rbp;
    case X86_REG_RSP:
    case X86_REG_ESP:
      return &g.rsp;
    case X86_REG_R8:
    case X86_REG_R8D:
      return &g.r8;
    case X86_REG_R9:
    case X86_REG_R9D:
      return &g.r9;
    case X86_REG_R10:
    case X86_REG_R10D:
      return &g.r10;
    case X86_REG_R11:
    case X86_REG_R11D:
      return &g.r11;
    case X86_REG_R12:
    case X86_REG_R12D:
      return &g.r12;
    case X86_REG_R13:
    case X86_REG_R13D:
      return &g.r13;
    case X86_REG_R14:
    case X86_REG_R14D:
      return &g.r14;
    case X86_REG_R15:
    case X86_REG_R15D:
      return &g.r15;
    default:
      return nullptr;
  }
}

uint64_t reg_value(const vsyscall::Gpr& g, unsigned cs_reg, uint64_t next_rip) {
  if (cs_reg == X86_REG_INVALID) return 0;
  if (cs_reg == X86_REG_RIP) return next_rip;
  auto* p = gpr64(const_cast<vsyscall::Gpr&>(g), cs_reg);
  return p ? *p : 0;
}

// The linear address of a memory operand, computed here independently of EmulationStep.
uint64_t linear_address(const cs_insn& insn, const x86_op_mem& m, const vsyscall::Gpr& g) {
  const uint64_t next = insn.address + insn.size;
  uint64_t a = reg_value(g, m.base, next) + reg_value(g, m.index, next) * uint64_t(m.scale) +
               static_cast<uint64_t>(m.disp);
  if (insn.detail->x86.prefix[3] == 0x67) a &= 0xffffffffULL;
  if (m.segment == X86_REG_FS) a += g.fs_base;
  if (m.segment == X86_REG_GS) a += g.gs_base;
  return a;
}

bool image_range(uint64_t addr, size_t n) {
  return addr >= vsyscall::kPageBase && n <= vsyscall::kPageSize &&
         addr - vsyscall::kPageBase <= vsyscall::kPageSize - n;
}

const uint8_t* image_at(uint64_t addr) {
  return vsyscall::page_image().data() + (addr - vsyscall::kPageBase);
}

uint64_t image_uint(uint64_t addr, unsigned width) {
  uint64_t v = 0;
  std::memcpy(&v, image_at(addr), width);
  return v;
}

int64_t sign_extend(uint64_t v, unsigned width) {
  const unsigned shift = 64 - 8 * width;
  return static_cast<int64_t>(v << shift) >> shift;
}

// For the instructions listed in the header comment: the value they must have loaded.
void check_loaded_bytes(csh cs, const uint8_t* code, size_t code_size, const CpuState& before,
                        const CpuState& after, const FlatMemory& mem) {
  cs_insn* insn = nullptr;
  const size_t n = cs_disasm(cs, code, code_size, before.gpr.rip, 1, &insn);
  if (n == 0) return;
  const cs_x86& x = insn->detail->x86;
  const std::string_view m = insn->mnemonic;
  const bool prefixed = x.prefix[0] != 0;  // rep/lock: not a plain load
  if (!prefixed && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
      x.operands[1].type == X86_OP_MEM) {
    const cs_x86_op& dst = x.operands[0];
    const cs_x86_op& src = x.operands[1];
    const uint64_t ea = linear_address(*insn, src.mem, before.gpr);
    const unsigned w = src.size;
    unsigned long long* reg = gpr64(const_cast<vsyscall::Gpr&>(after.gpr), dst.reg);
    if (reg && image_range(ea, w) && (dst.size == 4 || dst.size == 8) && w <= 8 && w > 0) {
      const uint64_t raw = image_uint(ea, w);
      uint64_t want = 0;
      bool known = true;
      if (m == "mov" || m == "movabs" || m == "movzx") {
        want = raw;
      } else if (m == "movsx" || m == "movsxd") {
        want = static_cast<uint64_t>(sign_extend(raw, w));
      } else {
        known = false;
      }
      if (known) {
        if (dst.size == 4) want &= 0xffffffffULL;  // a 32-bit write zero-extends
        check(*reg == want, "integer load differs from the page image");
      }
    }
    const bool vector_move = m == "movdqu" || m == "movdqa" || m == "movups" || m == "movaps" ||
                             m == "movupd" || m == "movapd" || m == "lddqu" || m == "movntdqa" ||
                             m == "vmovdqu" || m == "vmovdqa" || m == "vmovups" || m == "vmovaps" ||
                             m == "vmovupd" || m == "vmovapd" || m == "vlddqu" || m == "vmovntdqa";
    unsigned vreg = 0;
    bool is_vec = false;
    if (dst.reg >= X86_REG_XMM0 && dst.reg <= X86_REG_XMM15) {
      vreg = dst.reg - X86_REG_XMM0;
      is_vec = true;
    } else if (dst.reg >= X86_REG_YMM0 && dst.reg <= X86_REG_YMM15) {
      vreg = dst.reg - X86_REG_YMM0;
      is_vec = true;
    }
    if (vector_move && is_vec && (w == 16 || w == 32) && image_range(ea, w)) {
      check(std::memcmp(after.vec.ymm[vreg].data(), image_at(ea), w) == 0,
            "vector load differs from the page image");
    }
  }
  if (!prefixed && (m == "lodsb" || m == "lodsw" || m == "lodsd" || m == "lodsq")) {
    const unsigned w = m == "lodsb" ? 1 : m == "lodsw" ? 2 : m == "lodsd" ? 4 : 8;
    const uint64_t src = x.prefix[3] == 0x67 ? before.gpr.rsi & 0xffffffffULL : before.gpr.rsi;
    if (image_range(src, w)) {
      const uint64_t mask = w == 8 ? ~0ULL : (1ULL << (8 * w)) - 1;
      check((after.gpr.rax & mask) == image_uint(src, w), "lods differs from the page image");
    }
  }
  if (!prefixed && m == "push" && x.op_count == 1 && x.operands[0].type == X86_OP_MEM &&
      x.operands[0].size == 8) {
    const uint64_t ea = linear_address(*insn, x.operands[0].mem, before.gpr);
    if (image_range(ea, 8) && mem.last_write.size() == 8) {
      check(std::memcmp(mem.last_write.data(), image_at(ea), 8) == 0,
            "push differs from the page image");
    }
  }
  cs_free(insn, n);
}

csh open_capstone() {
  csh cs = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) std::abort();
  cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
  return cs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const csh cs = open_capstone();
  if (size < 16) return 0;
  uint8_t code[15];
  std::memcpy(code, data, sizeof code);
  Input in{data + sizeof code, size - sizeof code};

  CpuState state;
  vsyscall::Gpr& g = state.gpr;
  for (unsigned long long* r : {&g.rax, &g.rbx, &g.rcx, &g.rdx, &g.rsi, &g.rdi, &g.rbp, &g.rsp,
                                &g.r8, &g.r9, &g.r10, &g.r11, &g.r12, &g.r13, &g.r14, &g.r15}) {
    *r = steered_value(in);
  }
  const uint8_t flags = in.byte();
  g.eflags = 0x202 | ((flags & 1) ? vsyscall::kFlagDF : 0) | ((flags & 2) ? vsyscall::kFlagCF : 0);
  state.have_avx = (flags & 4) != 0;
  state.have_avx512 = (flags & 8) != 0;
  g.fs_base = (flags & 16) ? steered_value(in) : 0;
  g.gs_base = (flags & 32) ? steered_value(in) : 0;
  g.rip = kRip;
  for (auto& k : state.avx512.k) k = in.word(8);
  for (auto& y : state.vec.ymm) {
    for (auto& b : y) b = in.byte();
  }

  FlatMemory mem;
  for (size_t i = 0; i < mem.bytes_.size(); ++i) mem.bytes_[i] = static_cast<uint8_t>(i * 7);
  std::memcpy(&mem.bytes_[kRip - kUserBase], code, sizeof code);
  const std::vector<uint8_t> memory_before = mem.bytes_;

  const CpuState before = state;
  const ReadEmulation r = vsyscall::emulate_read(code, state, mem);
  switch (r.status) {
    case ReadEmulation::Status::kDone:
      check(state.gpr.rip > before.gpr.rip && state.gpr.rip - before.gpr.rip <= 15,
            "kDone did not advance rip by one instruction");
      check_loaded_bytes(cs, code, sizeof code, before, state, mem);
      break;
    case ReadEmulation::Status::kUnsupported:
    case ReadEmulation::Status::kWritesPage:
      check(mem.writes == 0 && mem.bytes_ == memory_before, "refused instruction wrote memory");
      [[fallthrough]];
    case ReadEmulation::Status::kFault:
      check(std::memcmp(&state.gpr, &before.gpr, sizeof state.gpr) == 0 &&
                state.vec.ymm == before.vec.ymm && state.avx512.k == before.avx512.k &&
                state.avx512.zmm_hi256 == before.avx512.zmm_hi256 &&
                state.avx512.hi16_zmm == before.avx512.hi16_zmm,
            "state changed without kDone");
      break;
  }
  return 0;
}
