// The machine code that maps the vvar object and the vDSO image inside a new image in one
// run (one ptrace stop instead of two per remote syscall). Pure: bytes and offsets, no
// ptrace; vdso_injector.cc writes it at the entry point and runs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace emulator {

struct InjectStubParams {
  std::string vvar_path;   // "/proc/<vdsorun>/fd/<n>": opened O_RDONLY in the tracee
  std::string image_path;  // likewise for the vDSO image
  uint64_t vvar_size = 0;  // page multiple; the image is mapped right above the vvar
  uint64_t image_size = 0;
};

// Position-independent x86-64 code followed by the two NUL-terminated paths. It does
//   r12 = openat(AT_FDCWD, vvar_path, O_RDONLY|O_CLOEXEC)
//   r13 = mmap(0, vvar_size + image_size, PROT_READ, MAP_SHARED, r12, 0); close(r12)
//   r14 = openat(AT_FDCWD, image_path, O_RDONLY|O_CLOEXEC)
//   r15 = mmap(r13 + vvar_size, image_size, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED, r14, 0);
//   close(r14)
// skipping to the end at the first negative result, then makes the marker syscall
// getpid(kInjectDoneMagic) and runs into `ud2`. It uses no stack and no memory but its own.
// A register is meaningful only if every step before it succeeded.
struct InjectStub {
  std::vector<uint8_t> bytes;
  size_t marker_end = 0;  // just after the marker `syscall`: rip at its seccomp stop
  size_t ud2 = 0;         // the `ud2`: rip of the SIGILL if the marker did not stop
  size_t vvar_path = 0;   // offsets of the two strings
  size_t image_path = 0;
};

InjectStub build_inject_stub(const InjectStubParams& params);

// What the stub's result registers say, read at its done stop.
struct InjectStubResult {
  enum class Failed { kNothing, kOpenVvar, kMapVvar, kOpenImage, kMapImage } failed;
  long error = 0;     // -errno of the failed step
  uint64_t base = 0;  // the vvar's address, when it was mapped (then munmap it on failure)
  uint64_t span = 0;  // vvar_size + image_size
};
InjectStubResult interpret_inject_stub(uint64_t r12, uint64_t r13, uint64_t r14, uint64_t r15,
                                       const InjectStubParams& params);

}  // namespace emulator
