// The call forms legacy code reaches the vsyscall page with (vsyscall/call_site.h), one call
// site each, for call-site patching: each function is one site, so its first call stops and
// later calls go through the trampoline. Every site sets the tracee marks first
// (g_expect_ret, g_expect_rsp), so a signal is reported relative to it (tracee.h).
// Built static and non-PIE only: `call rel32` into the page reaches it from the low 2 GiB.

#include "asm_macros.h"

// Marks the return address `ret` and the stack pointer at the entry (after the call pushed).
.macro MARKS ret
  lea \ret(%rip), %r11
  mov %r11, g_expect_ret(%rip)
  lea -8(%rsp), %r11
  mov %r11, g_expect_rsp(%rip)
.endm

  .data
  .p2align 3
gtod_word: .quad 0xffffffffff600000   // Go's vdsoGettimeofdaySym
time_word: .quad 0xffffffffff600400   // an IFUNC-resolved pointer

  .text

// long form_mov_rax(struct timeval*, struct timezone*): the 7-byte imm32 form glibc used.
FUNC form_mov_rax
  sub $8, %rsp
  MARKS 1f
  mov $0xffffffffff600000, %rax
  call *%rax
1:
  add $8, %rsp
  ret
END form_mov_rax

// long form_mov_rbx(time_t*): another register, callee-saved.
FUNC form_mov_rbx
  push %rbx
  MARKS 1f
  mov $0xffffffffff600400, %rbx
  call *%rbx
1:
  pop %rbx
  ret
END form_mov_rbx

// long form_mov_r12(unsigned* cpu, unsigned* node): a REX.B register (49 c7 c4; 41 ff d4).
FUNC form_mov_r12
  push %r12
  MARKS 1f
  mov $0xffffffffff600800, %r12
  call *%r12
1:
  pop %r12
  ret
END form_mov_r12

// long form_movabs(struct timeval*, struct timezone*): the 10-byte imm64 form.
FUNC form_movabs
  sub $8, %rsp
  MARKS 1f
  movabsq $0xffffffffff600000, %rax
  call *%rax
1:
  add $8, %rsp
  ret
END form_movabs

// long form_word(struct timeval*, struct timezone*): the target in a data word, Go's form.
FUNC form_word
  sub $8, %rsp
  MARKS 1f
  mov gtod_word(%rip), %rax
  call *%rax
1:
  add $8, %rsp
  ret
END form_word

// long form_call_mem(time_t*): `call *mem`.
FUNC form_call_mem
  sub $8, %rsp
  MARKS 1f
  call *time_word(%rip)
1:
  add $8, %rsp
  ret
END form_call_mem

// long form_rel32(struct timeval*, struct timezone*): `call rel32` straight into the page.
FUNC form_rel32
  sub $8, %rsp
  MARKS 1f
  call 0xffffffffff600000
1:
  add $8, %rsp
  ret
END form_rel32

// long tail_mov_rax(time_t*): static glibc's time(), a tail call through %rax.
FUNC tail_mov_rax
  mov $0xffffffffff600400, %rax
  jmp *%rax
END tail_mov_rax

// long tail_rel32(time_t*): a tail call with `jmp rel32`.
FUNC tail_rel32
  jmp 0xffffffffff600400
END tail_rel32

// long form_tail(long (*fn)(time_t*), time_t*): the site that calls a tail-calling function.
FUNC form_tail
  sub $8, %rsp
  mov %rdi, %rax
  mov %rsi, %rdi
  lea -8(%rsp), %r11
  mov %r11, g_expect_rsp(%rip)
  lea 1f(%rip), %r11
  mov %r11, g_expect_ret(%rip)
  cmp $0, %rax
  je 2f
  call tail_rel32
  jmp 1f
2:
  call tail_mov_rax
1:
  add $8, %rsp
  ret
END form_tail

// void probe_regs(uint64_t* out): fills every register but rsp and rbp with a pattern and the
// arithmetic flags with a mix, calls gettimeofday(NULL, NULL) through the imm32 form, and
// stores what came back: out[0..13] = rax rbx rcx rdx rsi rdi r8..r15, out[14] = rflags
// before, out[15] = rflags after.
FUNC probe_regs
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rdi, %rbp              // out
  mov $0x1111111111111111, %rbx
  mov $0x2222222222222222, %rcx
  mov $0x3333333333333333, %rdx
  xor %esi, %esi              // tz = NULL
  xor %edi, %edi              // tv = NULL
  mov $0x8888888888888888, %r8
  mov $0x9999999999999999, %r9
  mov $0xaaaaaaaaaaaaaaaa, %r10
  mov $0xbbbbbbbbbbbbbbbb, %r11
  mov $0xcccccccccccccccc, %r12
  mov $0xdddddddddddddddd, %r13
  mov $0xeeeeeeeeeeeeeeee, %r14
  mov $0x7777777777777777, %r15
  // CF, PF, ZF, SF, OF set (0x8c5), AF clear: 0x7fffffff + 0x7fffffff sets OF and SF, ...
  pushfq
  orq $0x8c5, (%rsp)
  andq $~0x10, (%rsp)
  popfq
  pushfq
  popq 112(%rbp)
  mov $0xffffffffff600000, %rax
  call *%rax
  pushfq
  popq 120(%rbp)
  mov %rax, 0(%rbp)
  mov %rbx, 8(%rbp)
  mov %rcx, 16(%rbp)
  mov %rdx, 24(%rbp)
  mov %rsi, 32(%rbp)
  mov %rdi, 40(%rbp)
  mov %r8, 48(%rbp)
  mov %r9, 56(%rbp)
  mov %r10, 64(%rbp)
  mov %r11, 72(%rbp)
  mov %r12, 80(%rbp)
  mov %r13, 88(%rbp)
  mov %r14, 96(%rbp)
  mov %r15, 104(%rbp)
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
END probe_regs

  .section .note.GNU-stack, "", @progbits
