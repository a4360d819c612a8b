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
extern "C" void vdsorun_native_enter512(vsyscall::testing::NativeRegs* regs, const void* code);
extern "C" void vdsorun_native_return();
extern "C" void vdsorun_native_return512();

static_assert(offsetof(vsyscall::testing::NativeRegs, rflags) == 128);
static_assert(offsetof(vsyscall::testing::NativeRegs, zmm) == 136);
static_assert(offsetof(vsyscall::testing::NativeRegs, k) == 136 + 32 * 64);

// Offsets: gpr[i] at 8*i (rax 0, rcx 8, rdx 16, rbx 24, rsp 32, rbp 40, rsi 48, rdi 56,
// r8..r15 64..120), rflags 128, zmm[i] at 136 + 64*i, k[i] at 2184 + 8*i.
asm(R"(
  .intel_syntax noprefix
  .bss
  .p2align 3
vdsorun_native_saved_rsp: .quad 0
vdsorun_native_saved_regs: .quad 0
vdsorun_native_code: .quad 0
vdsorun_native_out_rsp: .quad 0
  .text

  .macro VDSORUN_SAVE_CALLEE
  push rbp
  push rbx
  push r12
  push r13
  push r14
  push r15
  mov [rip + vdsorun_native_saved_rsp], rsp
  mov [rip + vdsorun_native_saved_regs], rdi
  mov [rip + vdsorun_native_code], rsi
  .endm

  .macro VDSORUN_LOAD_AND_GO
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
  .endm

  .macro VDSORUN_STORE_GPRS
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
  .endm

  .macro VDSORUN_RESTORE_CALLEE
  vzeroupper
  cld
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbx
  pop rbp
  ret
  .endm

  .globl vdsorun_native_enter
  .type vdsorun_native_enter, @function
vdsorun_native_enter:
  VDSORUN_SAVE_CALLEE
  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  vmovdqu ymm\i, [rdi + 136 + \i*64]
  .endr
  VDSORUN_LOAD_AND_GO

  .globl vdsorun_native_return
  .type vdsorun_native_return, @function
vdsorun_native_return:
  VDSORUN_STORE_GPRS
  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  vmovdqu [rdi + 136 + \i*64], ymm\i
  .endr
  VDSORUN_RESTORE_CALLEE

  .globl vdsorun_native_enter512
  .type vdsorun_native_enter512, @function
vdsorun_native_enter512:
  VDSORUN_SAVE_CALLEE
  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  vmovdqu64 zmm\i, [rdi + 136 + \i*64]
  .endr
  .irp i,0,1,2,3,4,5,6,7
  kmovq k\i, [rdi + 2184 + \i*8]
  .endr
  VDSORUN_LOAD_AND_GO

  .globl vdsorun_native_return512
  .type vdsorun_native_return512, @function
vdsorun_native_return512:
  VDSORUN_STORE_GPRS
  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  vmovdqu64 [rdi + 136 + \i*64], zmm\i
  .endr
  .irp i,0,1,2,3,4,5,6,7
  kmovq [rdi + 2184 + \i*8], k\i
  .endr
  VDSORUN_RESTORE_CALLEE
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

  const void* load(std::span<const uint8_t> code, void (*back)()) {
    if (mprotect(page_, kSize, PROT_READ | PROT_WRITE) != 0) std::abort();
    std::memcpy(page_, code.data(), code.size());
    static constexpr uint8_t kJmpIndirect[] = {0xff, 0x25, 0x00, 0x00, 0x00, 0x00};
    std::memcpy(page_ + code.size(), kJmpIndirect, sizeof kJmpIndirect);
    const auto target = reinterpret_cast<uint64_t>(back);
    std::memcpy(page_ + code.size() + sizeof kJmpIndirect, &target, sizeof target);
    if (mprotect(page_, kSize, PROT_READ | PROT_EXEC) != 0) std::abort();
    return page_;
  }

 private:
  static constexpr size_t kSize = 4096;
  uint8_t* page_ = nullptr;
};

uint64_t xcr0() {
  uint32_t lo = 0, hi = 0;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace

bool native_exec_available() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  if ((c & bit_AVX) == 0 || (c & bit_OSXSAVE) == 0) return false;
  if ((xcr0() & 0x6) != 0x6) return false;  // SSE and AVX state enabled by the kernel
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (b & bit_AVX2) != 0;
}

bool native_exec_avx512_available() {
  if (!native_exec_available()) return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const unsigned need = bit_AVX512F | bit_AVX512BW | bit_AVX512VL;
  return (b & need) == need && (xcr0() & 0xe6) == 0xe6;  // opmask, ZMM_Hi256, Hi16_ZMM
}

void native_exec(std::span<const uint8_t> code, NativeRegs& regs, bool avx512) {
  static CodePage page;
  if (avx512) {
    vdsorun_native_enter512(&regs, page.load(code, &vdsorun_native_return512));
  } else {
    vdsorun_native_enter(&regs, page.load(code, &vdsorun_native_return));
  }
}

}  // namespace vsyscall::testing
