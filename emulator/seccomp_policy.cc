// libseccomp builds the filter; it is exported to a memfd and read back as BPF instructions so
// the child can install it after fork() without allocating.
#include "emulator/seccomp_policy.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "emulator/unique_fd.h"

namespace emulator {

std::vector<SeccompRule> vsyscall_policy() {
  return {{96, true}, {201, true}, {309, true}};
}

BpfProgram compile_policy(const std::vector<SeccompRule>& rules) {
  auto fail = [](const char* what, int rc) {
    throw std::runtime_error(std::string("building the seccomp filter: ") + what + ": " +
                             std::strerror(-rc));
  };
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                             [](void* c) { seccomp_release(c); });
  if (!ctx) throw std::runtime_error("building the seccomp filter: seccomp_init failed");
  // 32-bit (int 0x80) and x32 programs have no vsyscall page: let them through untouched
  // instead of libseccomp's default of killing on a foreign architecture.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW); rc < 0)
    fail("seccomp_attr_set(ACT_BADARCH)", rc);
  // The filter never needs NO_NEW_PRIVS from libseccomp: the child sets it itself when
  // it lacks CAP_SYS_ADMIN.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    fail("seccomp_attr_set(CTL_NNP)", rc);
  for (const SeccompRule& r : rules) {
    if (!r.trace) continue;
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_TRACE(0), r.syscall_nr, 0); rc < 0)
      fail("seccomp_rule_add", rc);
  }
  UniqueFd fd(memfd_create("vdsorun-bpf", MFD_CLOEXEC));
  if (!fd) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  if (int rc = seccomp_export_bpf(ctx.get(), fd.get()); rc < 0) fail("seccomp_export_bpf", rc);
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0)
    throw std::runtime_error("building the seccomp filter: bad exported size");
  BpfProgram prog;
  prog.insns.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(fd.get(), prog.insns.data(), static_cast<size_t>(size), 0) != size)
    throw std::runtime_error("building the seccomp filter: reading it back failed");
  return prog;
}

}  // namespace emulator
