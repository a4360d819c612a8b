// Declarations of the assembly helpers in vsys_asm.S (see the comments there).
#ifndef VSYS_ASM_H
#define VSYS_ASM_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

int old_gettimeofday(struct timeval* tv, struct timezone* tz);
time_t old_time(time_t* t);
long old_getcpu(unsigned* cpu, unsigned* node, void* cache);

struct regs_out {
  uint64_t rcx, r11, rdx, rdi, rsi, r8, r9, r10, flags_before, flags_after, rax;
};
void regs_probe(uint64_t addr, uint64_t rdi, uint64_t rsi, struct regs_out* out);

uint64_t read_movb(const volatile void* p);
uint64_t read_movw(const volatile void* p);
uint64_t read_movl(const volatile void* p);
uint64_t read_movq(const volatile void* p);
uint64_t read_movq_r13(const volatile void* p);
uint64_t read_movabs(void);
uint64_t read_sib(const volatile void* base, uint64_t index);
void read_movdqu(const volatile void* p, void* out16);
void read_vmovdqu(const volatile void* p, void* out32);
int cmp_byte_0x48(const volatile void* p);
int cmp_qword(const volatile void* p, uint64_t v);

void write_movb(volatile void* p);
void write_movq(volatile void* p);

#endif
