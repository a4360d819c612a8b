// Assembly helpers of the tracee programs: exact legacy call sequences, register probes,
// and loads/stores of the vsyscall page whose faulting instruction is marked (g_expect_insn).

#define VSYS_PAGE 0xffffffffff600000

// Records the address of local label `lbl` in g_expect_insn (clobbers rax).
.macro MARK_INSN lbl
  lea \lbl(%rip), %rax
  mov %rax, g_expect_insn(%rip)
.endm

#include "asm_macros.h"

  .text

// long vsys_call(uint64_t addr, uint64_t a, uint64_t b, uint64_t c)
// Calls addr with rdi=a, rsi=b, rdx=c through `call *%rax` and returns rax.
FUNC vsys_call
  mov %rdi, %rax
  mov %rsi, %rdi
  mov %rdx, %rsi
  mov %rcx, %rdx
  lea 1f(%rip), %rcx
  mov %rcx, g_expect_ret(%rip)
  lea -8(%rsp), %rcx
  mov %rcx, g_expect_rsp(%rip)
  call *%rax
1:
  ret
END vsys_call

// int old_gettimeofday(struct timeval*, struct timezone*)
// The body of static glibc <= 2.14's __gettimeofday: align the stack, then
// `mov $0xffffffffff600000,%rax; call *%rax`. The marks only store to memory.
FUNC old_gettimeofday
  sub $8, %rsp
  lea 1f(%rip), %rax
  mov %rax, g_expect_ret(%rip)
  lea -8(%rsp), %rax
  mov %rax, g_expect_rsp(%rip)
  mov $0xffffffffff600000, %rax
  call *%rax
1:
  add $8, %rsp
  ret
END old_gettimeofday

// time_t old_time(time_t*)
// Static glibc's time(): a tail call, `mov $0xffffffffff600400,%rax; jmp *%rax`, so the
// vsyscall returns straight to our caller.
FUNC old_time
  mov (%rsp), %rax
  mov %rax, g_expect_ret(%rip)
  mov %rsp, g_expect_rsp(%rip)
  mov $0xffffffffff600400, %rax
  jmp *%rax
END old_time

// long old_getcpu(unsigned* cpu, unsigned* node, void* cache)
FUNC old_getcpu
  sub $8, %rsp
  lea 1f(%rip), %rax
  mov %rax, g_expect_ret(%rip)
  lea -8(%rsp), %rax
  mov %rax, g_expect_rsp(%rip)
  mov $0xffffffffff600800, %rax
  call *%rax
1:
  add $8, %rsp
  ret
END old_getcpu

// void regs_probe(uint64_t addr, uint64_t rdi, uint64_t rsi, struct regs_out* out)
// Loads sentinels into rcx, r11, rdx, r8, r9, r10 and sets CF PF AF ZF SF DF OF, calls addr,
// and stores what came back. Layout of regs_out (all uint64_t):
//   0 rcx, 8 r11, 16 rdx, 24 rdi, 32 rsi, 40 r8, 48 r9, 56 r10, 64 flags_before,
//   72 flags_after, 80 rax
#define RP_FLAGS 0xcd7
FUNC regs_probe
  push %rbx
  push %r12
  push %r13
  mov %rcx, %rbx
  mov %rdi, %r12
  mov %rsi, %rdi
  mov %rdx, %rsi
  lea 1f(%rip), %rax
  mov %rax, g_expect_ret(%rip)
  lea -8(%rsp), %rax
  mov %rax, g_expect_rsp(%rip)
  movabs $0x1111111111111111, %rcx
  movabs $0x2222222222222222, %r11
  movabs $0x3333333333333333, %rdx
  movabs $0x8888888888888888, %r8
  movabs $0x9999999999999999, %r9
  movabs $0xaaaaaaaaaaaaaaaa, %r10
  pushq $RP_FLAGS
  popfq
  pushfq
  popq 64(%rbx)
  mov %r12, %rax
  call *%rax
1:
  pushfq
  popq 72(%rbx)
  cld
  mov %rcx, 0(%rbx)
  mov %r11, 8(%rbx)
  mov %rdx, 16(%rbx)
  mov %rdi, 24(%rbx)
  mov %rsi, 32(%rbx)
  mov %r8, 40(%rbx)
  mov %r9, 48(%rbx)
  mov %r10, 56(%rbx)
  mov %rax, 80(%rbx)
  pop %r13
  pop %r12
  pop %rbx
  ret
END regs_probe

// --- loads of the page; the load is the marked instruction ---

// uint64_t read_movb(const void* p): movb (%rdi),%al
FUNC read_movb
  MARK_INSN 1f
  xor %eax, %eax
1:
  movb (%rdi), %al
  ret
END read_movb

// uint64_t read_movw(const void* p): movw (%rdi),%ax
FUNC read_movw
  MARK_INSN 1f
  xor %eax, %eax
1:
  movw (%rdi), %ax
  ret
END read_movw

// uint64_t read_movl(const void* p): movl (%rdi),%eax
FUNC read_movl
  MARK_INSN 1f
1:
  movl (%rdi), %eax
  ret
END read_movl

// uint64_t read_movq(const void* p): movq (%rdi),%rax
FUNC read_movq
  MARK_INSN 1f
1:
  movq (%rdi), %rax
  ret
END read_movq

// uint64_t read_movq_r13(const void* p): a load into a callee-saved register
FUNC read_movq_r13
  push %r13
  MARK_INSN 1f
  xor %r13d, %r13d
1:
  movq (%rdi), %r13
  mov %r13, %rax
  pop %r13
  ret
END read_movq_r13

// uint64_t read_movabs(void): the moffs64 form (opcode a1), absolute address 0x...808
FUNC read_movabs
  MARK_INSN 1f
1:
  movabs VSYS_PAGE + 0x808, %rax
  ret
END read_movabs

// uint64_t read_sib(const void* base, uint64_t index): mov 0x8(%rdi,%rsi,8),%rax
FUNC read_sib
  MARK_INSN 1f
1:
  mov 0x8(%rdi,%rsi,8), %rax
  ret
END read_sib

// void read_movdqu(const void* p, void* out16): movdqu (%rdi),%xmm0
FUNC read_movdqu
  MARK_INSN 1f
  pxor %xmm0, %xmm0
1:
  movdqu (%rdi), %xmm0
  movdqu %xmm0, (%rsi)
  ret
END read_movdqu

// void read_vmovdqu(const void* p, void* out32): vmovdqu (%rdi),%ymm0 (needs AVX)
FUNC read_vmovdqu
  MARK_INSN 1f
  vpxor %ymm0, %ymm0, %ymm0
1:
  vmovdqu (%rdi), %ymm0
  vmovdqu %ymm0, (%rsi)
  vzeroupper
  ret
END read_vmovdqu

// int cmp_byte_0x48(const void* p): cmpb $0x48,(%rdi); sete
FUNC cmp_byte_0x48
  MARK_INSN 1f
  xor %eax, %eax
1:
  cmpb $0x48, (%rdi)
  sete %al
  ret
END cmp_byte_0x48

// int cmp_qword(const void* p, uint64_t v): cmpq %rsi,(%rdi); sete
FUNC cmp_qword
  MARK_INSN 1f
  xor %eax, %eax
1:
  cmpq %rsi, (%rdi)
  sete %al
  ret
END cmp_qword

// --- stores to the page ---

// void write_movb(void* p): movb $0x90,(%rdi)
FUNC write_movb
  MARK_INSN 1f
1:
  movb $0x90, (%rdi)
  ret
END write_movb

// void write_movq(void* p): movq $0,(%rdi)
FUNC write_movq
  MARK_INSN 1f
1:
  movq $0, (%rdi)
  ret
END write_movq

  .section .note.GNU-stack, "", @progbits
