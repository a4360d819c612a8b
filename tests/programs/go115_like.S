// A stand-in for a Go < 1.16 program, for `vdsorun scan` only (it is never traced): what the
// scan reads of one, built without a Go 1.15 toolchain. Go's section names, a build info
// blob in the Go 1.13-1.17 pointer layout naming go1.15.15, and the runtime's fallback:
// vdsoGettimeofdaySym starts as the gettimeofday entry and walltime calls through it
// (`MOVQ runtime·vdsoGettimeofdaySym(SB), AX; CALL AX`). Run, it just exits 0.

  .section .note.go.buildid, "a"
  .p2align 2
  .long 4, 4, 4
  .asciz "Go"
  .p2align 2
  .ascii "fake"

  .section .go.buildinfo, "aw"
  .p2align 4
  .ascii "\377 Go buildinf:"
  .byte 8, 0           // pointer size, flags: little-endian, pointer layout
  .quad version_header
  .quad 0              // no module info

  .data
  .p2align 3
version_header:
  .quad version_text
  .quad 9
version_text:
  .ascii "go1.15.15"
  .p2align 3
  .globl vdsoGettimeofdaySym
vdsoGettimeofdaySym:
  .quad 0xffffffffff600000

  .text
  .globl walltime
  .type walltime, @function
walltime:
  sub $8, %rsp
  mov %rsp, %rdi
  xor %esi, %esi
  mov vdsoGettimeofdaySym(%rip), %rax
  call *%rax
  add $8, %rsp
  ret
  .size walltime, . - walltime

  .globl _start
  .type _start, @function
_start:
  mov $60, %eax
  xor %edi, %edi
  syscall

  .section .note.GNU-stack, "", @progbits
