// Raw x86-64 syscalls for the vDSO's fallbacks: the kernel's own result, -errno included.
#pragma once

namespace vdso {

inline long raw_syscall1(long nr, long a) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a) : "rcx", "r11", "memory");
  return ret;
}

inline long raw_syscall2(long nr, long a, long b) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}

inline long raw_syscall3(long nr, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

}  // namespace vdso
