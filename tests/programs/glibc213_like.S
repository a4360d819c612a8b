// A stand-in for glibc 2.13's own libc.so.6, for `vdsorun scan` only: its banner and what its
// x86-64 time/gettimeofday IFUNC resolvers do when the vDSO lookup fails, return the entry
// (`return dl_vdso_vsym(...) ?: (void *) VSYSCALL_ADDR_vgettimeofday;`).

  .section .rodata
  .asciz "GNU C Library stable release version 2.13, by Roland McGrath et al."

  .text
  .globl gettimeofday_ifunc
  .type gettimeofday_ifunc, @function
gettimeofday_ifunc:
  mov vdso_gettimeofday(%rip), %rax
  test %rax, %rax
  jne 1f
  mov $0xffffffffff600000, %rax
1:
  ret
  .size gettimeofday_ifunc, . - gettimeofday_ifunc

  .globl time_ifunc
  .type time_ifunc, @function
time_ifunc:
  mov vdso_time(%rip), %rax
  test %rax, %rax
  jne 1f
  mov $0xffffffffff600400, %rax
1:
  ret
  .size time_ifunc, . - time_ifunc

  .data
  .p2align 3
vdso_gettimeofday:
  .quad 0
vdso_time:
  .quad 0

  .section .note.GNU-stack, "", @progbits
