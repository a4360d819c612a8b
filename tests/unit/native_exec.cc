// The native side of the differential read-emulation tests: a trampoline in assembly that
// swaps in the test's registers, jumps to a copy of the instruction in an executable page, and
// comes back through an absolute jump that clobbers nothing.
#include "tests/unit/native_exec.h"

#include <cpuid.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

extern "C" void vdsorun_native_enter(vsyscall::testing::NativeRegs* regs, const void* code);
extern "C" void vdsorun_native_return();

static_assert(offsetof(vsyscall::testing::NativeRegs, rflags) == 128);
static_assert(offsetof(vsyscall::testing::NativeRegs, ymm) == 136);

// Offsets: gpr[i] at 8*i (rax 0, rcx 8, rdx 16, rbx 24, rsp 32, rbp 40, rsi 48, rdi 56,
// r8..r15 64..120), rflags 128, ymm[i] at 136 + 32*i.
asm(R"(
  .intel_syntax noprefix
  .bss
  .p2align 3
vdsorun_native_saved_rsp: .quad 0
vdsorun_native_saved_regs: .quad 0
vdsorun_native_code: .quad 0
vdsorun_native_out_rsp: .quad 0
  .text
  .globl vdsorun_native_enter
  .type vdsorun_native_enter, @function
vdsorun_native_enter:
  push rbp
  push rbx
  push r12
  push r13
  push r14
  push r15
  mov [rip + vdsorun_native_saved_rsp], rsp
  mov [rip + vdsorun_native_saved_regs], rdi
  mov [rip + vdsorun_native_code], rsi
  vmovdqu ymm0, [rdi + 136 + 0*32]
  vmovdqu ymm1, [rdi + 136 + 1*32]
  vmovdqu ymm2, [rdi + 136 + 2*32]
  vmovdqu ymm3, [rdi + 136 + 3*32]
  vmovdqu ymm4, [rdi + 136 + 4*32]
  vmovdqu ymm5, [rdi + 136 + 5*32]
  vmovdqu ymm6, [rdi + 136 + 6*32]
  vmovdqu ymm7, [rdi + 136 + 7*32]
  vmovdqu ymm8, [rdi + 136 + 8*32]
  vmovdqu ymm9, [rdi + 136 + 9*32]
  vmovdqu ymm10, [rdi + 136 + 10*32]
  vmovdqu ymm11, [rdi + 136 + 11*32]
  vmovdqu ymm12, [rdi + 136 + 12*32]
  vmovdqu ymm13, [rdi + 136 + 13*32]
  vmovdqu ymm14, [rdi + 136 + 14*32]
  vmovdqu ymm15, [rdi + 136 + 15*32]
  push qword ptr [rdi + 128]
  popfq
  mov rax, [rdi + 0]
  mov rcx, [rdi + 8]
  mov rdx, [rdi + 16]
  mov rbx, [rdi + 24]
  mov rbp, [rdi + 40]
  mov rsi, [rdi + 48]
  mov r8, [rdi + 64]
  mov r9, [rdi + 72]
  mov r10, [rdi + 80]
  mov r11, [rdi + 88]
  mov r12, [rdi + 96]
  mov r13, [rdi + 104]
  mov r14, [rdi + 112]
  mov r15, [rdi + 120]
  mov rsp, [rdi + 32]
  mov rdi, [rdi + 56]
  jmp qword ptr [rip + vdsorun_native_code]

  .globl vdsorun_native_return
  .type vdsorun_native_return, @function
vdsorun_native_return:
  mov [rip + vdsorun_native_out_rsp], rsp
  mov rsp, [rip + vdsorun_native_saved_rsp]
  pushfq
  push rdi
  mov rdi, [rip + vdsorun_native_saved_regs]
  pop qword ptr [rdi + 56]
  pop qword ptr [rdi + 128]
  mov [rdi + 0], rax
  mov [rdi + 8], rcx
  mov [rdi + 16], rdx
  mov [rdi + 24], rbx
  mov [rdi + 40], rbp
  mov [rdi + 48], rsi
  mov [rdi + 64], r8
  mov [rdi + 72], r9
  mov [rdi + 80], r10
  mov [rdi + 88], r11
  mov [rdi + 96], r12
  mov [rdi + 104], r13
  mov [rdi + 112], r14
  mov [rdi + 120], r15
  mov rax, [rip + vdsorun_native_out_rsp]
  mov [rdi + 32], rax
  vmovdqu [rdi + 136 + 0*32], ymm0
  vmovdqu [rdi + 136 + 1*32], ymm1
  vmovdqu [rdi + 136 + 2*32], ymm2
  vmovdqu [rdi + 136 + 3*32], ymm3
  vmovdqu [rdi + 136 + 4*32], ymm4
  vmovdqu [rdi + 136 + 5*32], ymm5
  vmovdqu [rdi + 136 + 6*32], ymm6
  vmovdqu [rdi + 136 + 7*32], ymm7
  vmovdqu [rdi + 136 + 8*32], ymm8
  vmovdqu [rdi + 136 + 9*32], ymm9
  vmovdqu [rdi + 136 + 10*32], ymm10
  vmovdqu [rdi + 136 + 11*32], ymm11
  vmovdqu [rdi + 136 + 12*32], ymm12
  vmovdqu [rdi + 136 + 13*32], ymm13
  vmovdqu [rdi + 136 + 14*32], ymm14
  vmovdqu [rdi + 136 + 15*32], ymm15
  vzeroupper
  cld
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbx
  pop rbp
  ret
  .att_syntax prefix
)");

namespace vsyscall::testing {
namespace {

// One executable page holding [instruction][jmp qword ptr [rip+0]][address of the return].
class CodePage {
 public:
  CodePage() {
    void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    page_ = static_cast<uint8_t*>(p);
  }
  ~CodePage() { munmap(page_, kSize); }
  CodePage(const CodePage&) = delete;
  CodePage& operator=(const CodePage&) = delete;

  const void* load(std::span<const uint8_t> code) {
    if (mprotect(page_, kSize, PROT_READ | PROT_WRITE) != 0) std::abort();
    std::memcpy(page_, code.data(), code.size());
    static constexpr uint8_t kJmpIndirect[] = {0xff, 0x25, 0x00, 0x00, 0x00, 0x00};
    std::memcpy(page_ + code.size(), kJmpIndirect, sizeof kJmpIndirect);
    const auto target = reinterpret_cast<uint64_t>(&vdsorun_native_return);
    std::memcpy(page_ + code.size() + sizeof kJmpIndirect, &target, sizeof target);
    if (mprotect(page_, kSize, PROT_READ | PROT_EXEC) != 0) std::abort();
    return page_;
  }

 private:
  static constexpr size_t kSize = 4096;
  uint8_t* page_ = nullptr;
};

}  // namespace

bool native_exec_available() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool avx = (c & bit_AVX) != 0 && (c & bit_OSXSAVE) != 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return avx && (b & bit_AVX2) != 0;
}

void native_exec(std::span<const uint8_t> code, NativeRegs& regs) {
  static CodePage page;
  vdsorun_native_enter(&regs, page.load(code));
}

}  // namespace vsyscall::testing
