// The legacy call sites of attach_loop.c, in the form glibc <= 2.13 used
// (`mov $entry,%rax; call *%rax`), so that vdsorun can patch them while attached.
#include "asm_macros.h"

  .text

// long legacy_gettimeofday(struct timeval*, struct timezone*)
FUNC legacy_gettimeofday
  sub $8, %rsp
  mov $0xffffffffff600000, %rax
  call *%rax
  add $8, %rsp
  ret
END legacy_gettimeofday

// long legacy_time(long*)
FUNC legacy_time
  sub $8, %rsp
  mov $0xffffffffff600400, %rax
  call *%rax
  add $8, %rsp
  ret
END legacy_time

// long legacy_getcpu(unsigned*, unsigned*, void*)
FUNC legacy_getcpu
  sub $8, %rsp
  mov $0xffffffffff600800, %rax
  call *%rax
  add $8, %rsp
  ret
END legacy_getcpu

  .section .note.GNU-stack, "", @progbits
