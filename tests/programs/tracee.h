// Shared helpers of the tracee programs: output lines, the signal report line, the page model.
//
// Conventions every program follows (the integration test relies on them):
//   - each output line is written with one write(2), so lines of forked processes never mix;
//   - success prints `OK <what> [key=value...]` and exits 0; a failed check prints
//     `FAIL <what> ...` and exits 1;
//   - unless the first argument is `-n`, SIGSEGV/SIGTRAP/SIGSYS/SIGBUS/SIGILL are caught by a
//     SA_SIGINFO handler that prints one line
//       SIGNAL sig=11 code=1 addr=0x... rip=... rsp_delta=... err=0x... ifetch=0|1 trapno=14
//              rax=-38 [syscall=96 arch=0xc000003e]
//     and exits with TRACEE_SIGNAL_EXIT; with `-n` the signal kills the program;
//   - rip is printed as `rip=insn` when it is the instruction the program marked as the one
//     expected to fault (g_expect_insn), `rip=ret` when it is the return address of the
//     vsyscall call in flight (g_expect_ret), otherwise as a hex address;
//   - rsp_delta is rsp minus g_expect_rsp, the stack pointer the program expects at the first
//     instruction of the vsyscall target (after the `call` pushed its return address);
//     `none` when the program did not mark it.
#ifndef TRACEE_H
#define TRACEE_H

#include <stddef.h>
#include <stdint.h>

#define VSYS_PAGE 0xffffffffff600000UL
#define VSYS_GETTIMEOFDAY (VSYS_PAGE + 0x000)
#define VSYS_TIME (VSYS_PAGE + 0x400)
#define VSYS_GETCPU (VSYS_PAGE + 0x800)
#define VSYS_PAGE_SIZE 0x1000

// A pointer in the kernel half: the kernel's access_ok() rejects it.
#define KERNEL_POINTER 0xffff800000000000UL
// Below mmap_min_addr: never mapped.
#define UNMAPPED_POINTER 0x1000UL

#define TRACEE_SIGNAL_EXIT 66

// Marks set by the assembly helpers (and by C code) before an action that may fault.
extern volatile uint64_t g_expect_rsp;
extern volatile uint64_t g_expect_ret;
extern volatile uint64_t g_expect_insn;

// Parses the common `-n` flag and installs the signal handlers unless it is given.
// Returns the index of the first remaining argument.
int tracee_init(int argc, char** argv);

// printf-style, one write(2) per call; a newline is appended.
void tracee_say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Prints `FAIL ...` and exits 1.
void tracee_fail(const char* fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
// Prints `FAIL usage: ...` and exits 2.
void tracee_usage(const char* usage) __attribute__((noreturn));

// Byte `off` of the page image a data read returns in emulate/native mode.
uint8_t tracee_image_byte(unsigned off);
// Fills buf with the image bytes [off, off + n).
void tracee_image_copy(void* buf, unsigned off, size_t n);

// The kernel's CLOCK_REALTIME seconds, read with a raw syscall (not through any vDSO).
long tracee_realtime_sec(void);
// Whether `sec` is within a few seconds of the kernel's CLOCK_REALTIME.
int tracee_time_plausible(long sec);
// Number of configured CPUs (getcpu's answer must be below it).
long tracee_ncpus(void);

// Hex dump of n bytes into out (2n + 1 chars).
void tracee_hex(char* out, const void* p, size_t n);

// A name derived from this executable: `<dir>/<base><suffix>` where suffix is `_static` when
// this program's own file name ends in `_static`. Used to exec the sibling program of the same
// linkage. Returns a static buffer.
const char* tracee_sibling(const char* base);

// --- assembly helpers (vsys_asm.S) ---

// Calls the code at `addr` with rdi=a, rsi=b, rdx=c, via `call *%rax`; returns rax.
// Marks g_expect_rsp/g_expect_ret for the call.
long vsys_call(uint64_t addr, uint64_t a, uint64_t b, uint64_t c);

#endif
