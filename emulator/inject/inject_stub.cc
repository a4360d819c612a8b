// Assembles the injection stub byte by byte; each line is one instruction, written as the
// assembler would print it. Jumps and RIP-relative addresses are patched once the layout is
// known.
#include "emulator/inject/inject_stub.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "emulator/trace/seccomp_policy.h"

namespace emulator {
namespace {

class Assembler {
 public:
  Assembler& emit(std::initializer_list<uint8_t> b) {
    out_.insert(out_.end(), b);
    return *this;
  }
  Assembler& imm32(uint32_t v) {
    append(&v, 4);
    return *this;
  }
  Assembler& imm64(uint64_t v) {
    append(&v, 8);
    return *this;
  }
  // A rel32 or disp32 to be filled in later; returns its position.
  size_t hole32() {
    const size_t at = out_.size();
    imm32(0);
    return at;
  }
  // Fills a hole with `target - (hole + 4)`: relative to the end of the instruction, which is
  // where every hole of this stub sits.
  void patch(size_t hole, size_t target) {
    const int32_t rel =
        static_cast<int32_t>(static_cast<int64_t>(target) - static_cast<int64_t>(hole + 4));
    std::memcpy(out_.data() + hole, &rel, 4);
  }
  size_t here() const { return out_.size(); }
  void string(const std::string& s) { append(s.c_str(), s.size() + 1); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::vector<uint8_t> out_;
};

constexpr uint32_t kAtFdcwd = static_cast<uint32_t>(AT_FDCWD);
constexpr uint32_t kOpenFlags = O_RDONLY | O_CLOEXEC;

bool failed(uint64_t v) {
  return static_cast<int64_t>(v) < 0;
}

}  // namespace

InjectStub build_inject_stub(const InjectStubParams& p) {
  Assembler a;
  std::vector<size_t> to_done;  // js rel32 holes that jump to `done`
  // --- vvar: r12 = openat(AT_FDCWD, vvar_path, O_RDONLY|O_CLOEXEC)
  a.emit({0xbf}).imm32(kAtFdcwd);                                     // mov    $AT_FDCWD,%edi
  const size_t vvar_path_disp = a.emit({0x48, 0x8d, 0x35}).hole32();  // lea vvar_path(%rip),%rsi
  a.emit({0xba}).imm32(kOpenFlags);                  // mov    $(O_RDONLY|O_CLOEXEC),%edx
  a.emit({0xb8}).imm32(SYS_openat);                  // mov    $SYS_openat,%eax
  a.emit({0x0f, 0x05});                              // syscall
  a.emit({0x49, 0x89, 0xc4});                        // mov    %rax,%r12
  a.emit({0x48, 0x85, 0xc0});                        // test   %rax,%rax
  to_done.push_back(a.emit({0x0f, 0x88}).hole32());  // js     done
  // r13 = mmap(0, vvar_size + image_size, PROT_READ, MAP_SHARED, r12, 0): one mapping of the
  // whole span keeps vvar and image adjacent; the image then replaces its upper part.
  a.emit({0x31, 0xff});                                    // xor    %edi,%edi
  a.emit({0x48, 0xbe}).imm64(p.vvar_size + p.image_size);  // movabs $span,%rsi
  a.emit({0xba}).imm32(PROT_READ);                         // mov    $PROT_READ,%edx
  a.emit({0x41, 0xba}).imm32(MAP_SHARED);                  // mov    $MAP_SHARED,%r10d
  a.emit({0x4d, 0x89, 0xe0});                              // mov    %r12,%r8
  a.emit({0x45, 0x31, 0xc9});                              // xor    %r9d,%r9d
  a.emit({0xb8}).imm32(SYS_mmap);                          // mov    $SYS_mmap,%eax
  a.emit({0x0f, 0x05});                                    // syscall
  a.emit({0x49, 0x89, 0xc5});                              // mov    %rax,%r13
  // close(r12), whatever mmap said.
  a.emit({0x4c, 0x89, 0xe7});                        // mov    %r12,%rdi
  a.emit({0xb8}).imm32(SYS_close);                   // mov    $SYS_close,%eax
  a.emit({0x0f, 0x05});                              // syscall
  a.emit({0x4d, 0x85, 0xed});                        // test   %r13,%r13
  to_done.push_back(a.emit({0x0f, 0x88}).hole32());  // js     done
  // --- image: r14 = openat(AT_FDCWD, image_path, O_RDONLY|O_CLOEXEC)
  a.emit({0xbf}).imm32(kAtFdcwd);                                      // mov    $AT_FDCWD,%edi
  const size_t image_path_disp = a.emit({0x48, 0x8d, 0x35}).hole32();  // lea image_path(%rip),%rsi
  a.emit({0xba}).imm32(kOpenFlags);                  // mov    $(O_RDONLY|O_CLOEXEC),%edx
  a.emit({0xb8}).imm32(SYS_openat);                  // mov    $SYS_openat,%eax
  a.emit({0x0f, 0x05});                              // syscall
  a.emit({0x49, 0x89, 0xc6});                        // mov    %rax,%r14
  a.emit({0x48, 0x85, 0xc0});                        // test   %rax,%rax
  to_done.push_back(a.emit({0x0f, 0x88}).hole32());  // js     done
  // r15 = mmap(r13 + vvar_size, image_size, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED, r14, 0)
  a.emit({0x48, 0xbf}).imm64(p.vvar_size);              // movabs $vvar_size,%rdi
  a.emit({0x4c, 0x01, 0xef});                           // add    %r13,%rdi
  a.emit({0x48, 0xbe}).imm64(p.image_size);             // movabs $image_size,%rsi
  a.emit({0xba}).imm32(PROT_READ | PROT_EXEC);          // mov    $(PROT_READ|PROT_EXEC),%edx
  a.emit({0x41, 0xba}).imm32(MAP_PRIVATE | MAP_FIXED);  // mov $(MAP_PRIVATE|MAP_FIXED),%r10d
  a.emit({0x4d, 0x89, 0xf0});                           // mov    %r14,%r8
  a.emit({0x45, 0x31, 0xc9});                           // xor    %r9d,%r9d
  a.emit({0xb8}).imm32(SYS_mmap);                       // mov    $SYS_mmap,%eax
  a.emit({0x0f, 0x05});                                 // syscall
  a.emit({0x49, 0x89, 0xc7});                           // mov    %rax,%r15
  // close(r14)
  a.emit({0x4c, 0x89, 0xf7});       // mov    %r14,%rdi
  a.emit({0xb8}).imm32(SYS_close);  // mov    $SYS_close,%eax
  a.emit({0x0f, 0x05});             // syscall
  // --- done: the marker syscall stops the tracee (filter rule kTraceDataInjectDone).
  const size_t done = a.here();
  a.emit({0x48, 0xbf}).imm64(kInjectDoneMagic);  // movabs $kInjectDoneMagic,%rdi
  a.emit({0xb8}).imm32(SYS_getpid);              // mov    $SYS_getpid,%eax
  a.emit({0x0f, 0x05});                          // syscall
  const size_t marker_end = a.here();
  // If the marker did not stop (no filter of ours, or a filter of the program answered
  // ERRNO, which outranks TRACE): fault here, at a known rip, instead of running on.
  a.emit({0x0f, 0x0b});  // ud2
  InjectStub s;
  s.marker_end = marker_end;
  s.ud2 = marker_end;
  s.vvar_path = a.here();
  a.string(p.vvar_path);
  s.image_path = a.here();
  a.string(p.image_path);
  for (size_t hole : to_done) a.patch(hole, done);
  a.patch(vvar_path_disp, s.vvar_path);
  a.patch(image_path_disp, s.image_path);
  s.bytes = a.take();
  return s;
}

InjectStubResult interpret_inject_stub(uint64_t r12, uint64_t r13, uint64_t r14, uint64_t r15,
                                       const InjectStubParams& p) {
  using F = InjectStubResult::Failed;
  InjectStubResult r{F::kNothing, 0, 0, p.vvar_size + p.image_size};
  if (failed(r12)) return {F::kOpenVvar, static_cast<long>(r12), 0, r.span};
  if (failed(r13)) return {F::kMapVvar, static_cast<long>(r13), 0, r.span};
  r.base = r13;
  if (failed(r14)) {
    r.failed = F::kOpenImage;
    r.error = static_cast<long>(r14);
  } else if (r15 != r13 + p.vvar_size) {
    r.failed = F::kMapImage;
    // MAP_FIXED returns the address asked for or -errno; anything else would be a kernel bug.
    r.error = failed(r15) ? static_cast<long>(r15) : -EINVAL;
  }
  return r;
}

}  // namespace emulator
