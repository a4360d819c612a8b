// Macros the tracee programs' assembly files share (GNU as, included by the C preprocessor).
#ifndef ASM_MACROS_H
#define ASM_MACROS_H
// clang-format off
.macro FUNC name
  .globl \name
  .type \name, @function
  .p2align 4
\name:
.endm

.macro END name
  .size \name, . - \name
.endm
// clang-format on
#endif
