// ptrace(2) wrappers with the failure policy of ptrace_ops.h.
#include "emulator/trace/ptrace_ops.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

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
// Big enough for every XSAVE component Linux exposes, AMX tile data included: the kernel
// rejects a PTRACE_SETREGSET(NT_X86_XSTATE) that is not exactly its full size.
constexpr size_t kXsaveBufSize = 64 * 1024;

}  // namespace

std::optional<vsyscall::Gpr> get_regs(pid_t tid) {
  vsyscall::Gpr r;
  if (!check(ptrace(PTRACE_GETREGS, tid, nullptr, &r), PTRACE_GETREGS, tid)) return std::nullopt;
  return r;
}

bool set_regs(pid_t tid, const vsyscall::Gpr& regs) {
  return check(ptrace(PTRACE_SETREGS, tid, nullptr, &regs), PTRACE_SETREGS, tid);
}

namespace {

// Where XSAVE component `c` sits in the standard (uncompacted) format ptrace uses, from CPUID
// leaf 0xD; 0 if the CPU does not have it.
uint32_t xsave_offset(unsigned c) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(0xd, c, &eax, &ebx, &ecx, &edx) || eax == 0) return 0;
  return ebx;
}

struct XsaveLayout {
  uint32_t opmask = 0, zmm_hi256 = 0, hi16_zmm = 0;
};

const XsaveLayout& layout() {
  static const XsaveLayout l{xsave_offset(5), xsave_offset(6), xsave_offset(7)};
  return l;
}

// The calling thread's XSAVE buffer, allocated on its first use. Not a thread_local array:
// that would sit in every thread's static TLS block, which glibc zeroes at each thread start
// (128 KiB of page faults and memset in vdsorun's main thread and again in the timekeeper
// thread, at every run, although only the engine thread ever reads vector registers).
uint8_t* xstate_buffer() {
  thread_local std::unique_ptr<uint8_t[]> buf;
  if (!buf) buf = std::make_unique<uint8_t[]>(kXsaveBufSize);
  return buf.get();
}

// Reads the whole extended state; its size, or 0 (legacy 512-byte FXSAVE area only), or -1 if
// the tracee vanished.
long read_xstate(pid_t tid, uint8_t* buf, bool& xsave) {
  iovec iov{buf, kXsaveBufSize};
  xsave = true;
  if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) == -1) {
    if (errno == ESRCH) return -1;
    xsave = false;
    iov = {buf, 512};
    if (!check(ptrace(PTRACE_GETREGSET, tid, NT_PRFPREG, &iov), PTRACE_GETREGSET, tid)) return -1;
  }
  return static_cast<long>(iov.iov_len);
}

}  // namespace

bool get_vector_regs(pid_t tid, vsyscall::CpuState& st) {
  uint8_t* const buf = xstate_buffer();
  bool xsave = false;
  const long size = read_xstate(tid, buf, xsave);
  if (size < 0) return false;
  st.have_avx = xsave && size >= static_cast<long>(kYmmHiOffset + 256);
  uint64_t xstate_bv = 0;
  if (xsave) std::memcpy(&xstate_bv, buf + kXstateBvOffset, 8);
  for (int i = 0; i < 16; ++i) {
    std::memcpy(st.vec.ymm[i].data(), buf + kXmmOffset + 16 * i, 16);
    // A component whose XSTATE_BV bit is clear is in its initial state: zeros.
    if (st.have_avx && (xstate_bv & 4))
      std::memcpy(st.vec.ymm[i].data() + 16, buf + kYmmHiOffset + 16 * i, 16);
    else
      std::memset(st.vec.ymm[i].data() + 16, 0, 16);
  }
  const XsaveLayout& l = layout();
  st.have_avx512 = st.have_avx && l.opmask && l.zmm_hi256 && l.hi16_zmm &&
                   size >= static_cast<long>(l.hi16_zmm + 1024);
  st.avx512 = {};
  if (st.have_avx512) {
    if (xstate_bv & (1u << 5)) std::memcpy(st.avx512.k.data(), buf + l.opmask, 64);
    if (xstate_bv & (1u << 6))
      for (int i = 0; i < 16; ++i)
        std::memcpy(st.avx512.zmm_hi256[i].data(), buf + l.zmm_hi256 + 32 * i, 32);
    if (xstate_bv & (1u << 7))
      for (int i = 0; i < 16; ++i)
        std::memcpy(st.avx512.hi16_zmm[i].data(), buf + l.hi16_zmm + 64 * i, 64);
  }
  return true;
}

bool set_vector_regs(pid_t tid, const vsyscall::CpuState& st, uint16_t zmm_upper_zeroed) {
  uint8_t* const buf = xstate_buffer();
  bool xsave = false;
  const long size = read_xstate(tid, buf, xsave);
  if (size < 0) return false;
  for (int i = 0; i < 16; ++i) {
    std::memcpy(buf + kXmmOffset + 16 * i, st.vec.ymm[i].data(), 16);
    if (st.have_avx) std::memcpy(buf + kYmmHiOffset + 16 * i, st.vec.ymm[i].data() + 16, 16);
  }
  uint64_t xstate_bv = 0;
  if (xsave) {
    std::memcpy(&xstate_bv, buf + kXstateBvOffset, 8);
    xstate_bv |= 2;  // SSE state now holds explicit values
    if (st.have_avx) xstate_bv |= 4;
  }
  const XsaveLayout& l = layout();
  if (st.have_avx512) {
    std::memcpy(buf + l.opmask, st.avx512.k.data(), 64);
    for (int i = 0; i < 16; ++i) {
      std::memcpy(buf + l.zmm_hi256 + 32 * i, st.avx512.zmm_hi256[i].data(), 32);
      std::memcpy(buf + l.hi16_zmm + 64 * i, st.avx512.hi16_zmm[i].data(), 64);
    }
    xstate_bv |= (1u << 5) | (1u << 6) | (1u << 7);
  } else if (zmm_upper_zeroed && l.zmm_hi256 && size >= static_cast<long>(l.zmm_hi256 + 512) &&
             (xstate_bv & (1u << 6))) {
    // A VEX write zeroes bits 511:256 of the zmm register on AVX-512 hardware.
    for (int i = 0; i < 16; ++i)
      if (zmm_upper_zeroed & (1u << i)) std::memset(buf + l.zmm_hi256 + 32 * i, 0, 32);
  }
  if (xsave) std::memcpy(buf + kXstateBvOffset, &xstate_bv, 8);
  iovec iov{buf, static_cast<size_t>(size)};
  const int note = xsave ? NT_X86_XSTATE : NT_PRFPREG;
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

bool single_step(pid_t tid, int sig) {
  return check(
      ptrace(PTRACE_SINGLESTEP, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))),
      PTRACE_SINGLESTEP, tid);
}

bool listen(pid_t tid) {
  return check(ptrace(PTRACE_LISTEN, tid, nullptr, nullptr), PTRACE_LISTEN, tid);
}

bool interrupt(pid_t tid) {
  return check(ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr), PTRACE_INTERRUPT, tid);
}

}  // namespace emulator
