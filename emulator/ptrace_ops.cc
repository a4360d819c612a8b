// ptrace(2) wrappers with the failure policy of ptrace_ops.h.
#include "emulator/ptrace_ops.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace emulator {
namespace {

// ESRCH: the tracee vanished or is not stopped any more (killed by SIGKILL): data, not a bug.
bool check(long rc, __ptrace_request req, pid_t tid) {
  if (rc != -1) return true;
  if (errno == ESRCH) return false;
  std::fprintf(stderr, "vdsorun: internal error: ptrace(%d, %d): %s\n", static_cast<int>(req), tid,
               std::strerror(errno));
  std::abort();
}

// Offsets in the XSAVE standard format (Intel SDM vol. 1, 13.4).
constexpr size_t kXmmOffset = 160;
constexpr size_t kXstateBvOffset = 512;
constexpr size_t kYmmHiOffset = 576;
constexpr size_t kXsaveBufSize = 8192;

}  // namespace

std::optional<vsyscall::Gpr> get_regs(pid_t tid) {
  vsyscall::Gpr r;
  if (!check(ptrace(PTRACE_GETREGS, tid, nullptr, &r), PTRACE_GETREGS, tid)) return std::nullopt;
  return r;
}

bool set_regs(pid_t tid, const vsyscall::Gpr& regs) {
  return check(ptrace(PTRACE_SETREGS, tid, nullptr, &regs), PTRACE_SETREGS, tid);
}

bool get_vector_regs(pid_t tid, vsyscall::VectorRegs& out, bool& have_avx) {
  alignas(64) static thread_local uint8_t buf[kXsaveBufSize];
  iovec iov{buf, sizeof buf};
  have_avx = false;
  if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) == -1) {
    if (errno == ESRCH) return false;
    iov = {buf, 512};
    if (!check(ptrace(PTRACE_GETREGSET, tid, NT_PRFPREG, &iov), PTRACE_GETREGSET, tid))
      return false;
  } else if (iov.iov_len >= kYmmHiOffset + 256) {
    have_avx = true;
  }
  uint64_t xstate_bv = 0;
  if (have_avx) std::memcpy(&xstate_bv, buf + kXstateBvOffset, 8);
  for (int i = 0; i < 16; ++i) {
    std::memcpy(out.ymm[i].data(), buf + kXmmOffset + 16 * i, 16);
    if (have_avx && (xstate_bv & 4))
      std::memcpy(out.ymm[i].data() + 16, buf + kYmmHiOffset + 16 * i, 16);
    else
      std::memset(out.ymm[i].data() + 16, 0, 16);
  }
  return true;
}

bool set_vector_regs(pid_t tid, const vsyscall::VectorRegs& regs, bool have_avx) {
  alignas(64) static thread_local uint8_t buf[kXsaveBufSize];
  iovec iov{buf, sizeof buf};
  const int note = have_avx ? NT_X86_XSTATE : NT_PRFPREG;
  if (!have_avx) iov.iov_len = 512;
  if (!check(ptrace(PTRACE_GETREGSET, tid, note, &iov), PTRACE_GETREGSET, tid)) return false;
  for (int i = 0; i < 16; ++i) {
    std::memcpy(buf + kXmmOffset + 16 * i, regs.ymm[i].data(), 16);
    if (have_avx) std::memcpy(buf + kYmmHiOffset + 16 * i, regs.ymm[i].data() + 16, 16);
  }
  if (have_avx) {
    uint64_t xstate_bv;
    std::memcpy(&xstate_bv, buf + kXstateBvOffset, 8);
    xstate_bv |= 2 | 4;  // SSE and AVX state now hold explicit values
    std::memcpy(buf + kXstateBvOffset, &xstate_bv, 8);
  }
  return check(ptrace(PTRACE_SETREGSET, tid, note, &iov), PTRACE_SETREGSET, tid);
}

std::optional<siginfo_t> get_siginfo(pid_t tid) {
  siginfo_t si;
  if (!check(ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si), PTRACE_GETSIGINFO, tid))
    return std::nullopt;
  return si;
}

bool set_siginfo(pid_t tid, const siginfo_t& si) {
  return check(ptrace(PTRACE_SETSIGINFO, tid, nullptr, &si), PTRACE_SETSIGINFO, tid);
}

std::optional<unsigned long> get_event_msg(pid_t tid) {
  unsigned long msg = 0;
  if (!check(ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg), PTRACE_GETEVENTMSG, tid))
    return std::nullopt;
  return msg;
}

bool cont(pid_t tid, int sig) {
  return check(ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))),
               PTRACE_CONT, tid);
}

bool syscall_cont(pid_t tid, int sig) {
  return check(
      ptrace(PTRACE_SYSCALL, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))),
      PTRACE_SYSCALL, tid);
}

bool listen(pid_t tid) {
  return check(ptrace(PTRACE_LISTEN, tid, nullptr, nullptr), PTRACE_LISTEN, tid);
}

bool interrupt(pid_t tid) {
  return check(ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr), PTRACE_INTERRUPT, tid);
}

}  // namespace emulator
