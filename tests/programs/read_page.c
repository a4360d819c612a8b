// Reads the vsyscall page as data, one instruction form per case, and checks the bytes against
// the page image (at each entry `48 c7 c0 NN NN 00 00 0f 05 c3`, every other byte 0xcc).
//   read_page [-n] CASE
// CASE        load                                   address        prints
// movb        movb (%rdi),%al                        page+0x000     value=0x48
// movw        movw (%rdi),%ax                        page+0x403     value=0xc9
// movl        movl (%rdi),%eax                       page+0x800     value=0x35c0c748
// movq        movq (%rdi),%rax                       page+0x000     value=0xf00000060c0c748
// movq_r13    movq (%rdi),%r13                       page+0x400     value=0xf000000c9c0c748
// movabs      movabs 0xffffffffff600808,%rax         page+0x808     value=0xccccccccccccc305
// sib         mov 0x8(%rdi,%rsi,8),%rax              page+0x400     value=0xf000000c9c0c748
// movdqu      movdqu (%rdi),%xmm0                    page+0x400     bytes=<16 bytes hex>
// vmovdqu     vmovdqu (%rdi),%ymm0 (AVX)             page+0x7f0     bytes=<32 bytes hex>
// cmpb        cmpb $0x48,(%rdi)                      page+0x000     equal=1
// cmpq        cmpq %rsi,(%rdi)                       page+0x800     equal=1
// memcmp      libc memcmp(page, image, 4096)         page           equal=1
// memcmp16    libc memcmp(page+0x400, image, 16)     page+0x400     equal=1
// memcpy      libc memcpy(buf, page, 4096)           page           equal=1
// memcpy40    libc memcpy(buf, page+0x7f0, 40)       page+0x7f0     equal=1
// Each prints `OK read_<case> ...` when the bytes match the image, `FAIL ...` otherwise.
// Without AVX the vmovdqu case prints `SKIP no avx` and exits 77.
#include <stdio.h>
#include <string.h>

#include "tracee.h"
#include "vsys_asm.h"

#define PAGE ((const volatile uint8_t*)VSYS_PAGE)

static uint64_t image_u64(unsigned off, unsigned width) {
  uint64_t v = 0;
  for (unsigned k = 0; k < width; ++k) v |= (uint64_t)tracee_image_byte(off + k) << (8 * k);
  return v;
}

static void report_value(const char* what, uint64_t got, unsigned off, unsigned width) {
  uint64_t want = image_u64(off, width);
  if (got != want) {
    tracee_fail("read_%s value=0x%llx want=0x%llx", what, (unsigned long long)got,
                (unsigned long long)want);
  }
  tracee_say("OK read_%s value=0x%llx", what, (unsigned long long)got);
}

static void report_bytes(const char* what, const uint8_t* got, unsigned off, size_t n) {
  uint8_t want[64];
  tracee_image_copy(want, off, n);
  char hex[129];
  tracee_hex(hex, got, n);
  if (memcmp(got, want, n) != 0) tracee_fail("read_%s bytes=%s", what, hex);
  tracee_say("OK read_%s bytes=%s", what, hex);
}

// Called through volatile pointers so the compiler emits calls to libc's own (vector) code.
static int (*volatile libc_memcmp)(const void*, const void*, size_t) = memcmp;
static void* (*volatile libc_memcpy)(void*, const void*, size_t) = memcpy;

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("read_page [-n] CASE");
  const char* what = argv[i];
  static uint8_t image[VSYS_PAGE_SIZE];
  static uint8_t buf[VSYS_PAGE_SIZE];
  tracee_image_copy(image, 0, sizeof image);
  uint8_t v[32];

  if (strcmp(what, "movb") == 0) {
    report_value(what, read_movb(PAGE), 0x000, 1);
  } else if (strcmp(what, "movw") == 0) {
    report_value(what, read_movw(PAGE + 0x403), 0x403, 2);
  } else if (strcmp(what, "movl") == 0) {
    report_value(what, read_movl(PAGE + 0x800), 0x800, 4);
  } else if (strcmp(what, "movq") == 0) {
    report_value(what, read_movq(PAGE), 0x000, 8);
  } else if (strcmp(what, "movq_r13") == 0) {
    report_value(what, read_movq_r13(PAGE + 0x400), 0x400, 8);
  } else if (strcmp(what, "movabs") == 0) {
    report_value(what, read_movabs(), 0x808, 8);
  } else if (strcmp(what, "sib") == 0) {
    report_value(what, read_sib(PAGE + 0x3f0, 1), 0x400, 8);
  } else if (strcmp(what, "movdqu") == 0) {
    read_movdqu(PAGE + 0x400, v);
    report_bytes(what, v, 0x400, 16);
  } else if (strcmp(what, "vmovdqu") == 0) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx")) {
      tracee_say("SKIP no avx");
      return 77;
    }
    read_vmovdqu(PAGE + 0x7f0, v);
    report_bytes(what, v, 0x7f0, 32);
  } else if (strcmp(what, "cmpb") == 0) {
    int eq = cmp_byte_0x48(PAGE);
    if (!eq) tracee_fail("read_cmpb equal=0");
    tracee_say("OK read_cmpb equal=1");
  } else if (strcmp(what, "cmpq") == 0) {
    int eq = cmp_qword(PAGE + 0x800, image_u64(0x800, 8));
    if (!eq) tracee_fail("read_cmpq equal=0");
    tracee_say("OK read_cmpq equal=1");
  } else if (strcmp(what, "memcmp") == 0) {
    int r = libc_memcmp((const void*)VSYS_PAGE, image, sizeof image);
    if (r != 0) tracee_fail("read_memcmp equal=0 result=%d", r);
    tracee_say("OK read_memcmp equal=1");
  } else if (strcmp(what, "memcmp16") == 0) {
    int r = libc_memcmp((const void*)(VSYS_PAGE + 0x400), image + 0x400, 16);
    if (r != 0) tracee_fail("read_memcmp16 equal=0 result=%d", r);
    tracee_say("OK read_memcmp16 equal=1");
  } else if (strcmp(what, "memcpy") == 0) {
    libc_memcpy(buf, (const void*)VSYS_PAGE, sizeof buf);
    if (memcmp(buf, image, sizeof buf) != 0) tracee_fail("read_memcpy equal=0");
    tracee_say("OK read_memcpy equal=1");
  } else if (strcmp(what, "memcpy40") == 0) {
    libc_memcpy(buf, (const void*)(VSYS_PAGE + 0x7f0), 40);
    if (memcmp(buf, image + 0x7f0, 40) != 0) tracee_fail("read_memcpy40 equal=0");
    tracee_say("OK read_memcpy40 equal=1");
  } else {
    tracee_usage("unknown case");
  }
  return 0;
}
