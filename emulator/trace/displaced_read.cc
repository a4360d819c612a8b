// Single-steps the faulting instruction with its address register pointing at a copy of the
// page image (followed by an inaccessible page, so a read past the end still faults).
#include "emulator/trace/displaced_read.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <array>
#include <cerrno>

#include "emulator/log.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"
#include "emulator/trace/remote_syscall.h"
#include "vsyscall/page.h"

namespace emulator {
namespace {

using vsyscall::Gpr;
using vsyscall::kPageBase;
using vsyscall::kPageSize;

// A register "holds the page address" if it points into the page or a little below it (a
// negative displacement from a base past the page start is unusual; a positive one common).
constexpr uint64_t kBelowSlack = 0x1000;

std::array<unsigned long long Gpr::*, 15> address_registers() {
  return {&Gpr::rax, &Gpr::rbx, &Gpr::rcx, &Gpr::rdx, &Gpr::rsi, &Gpr::rdi, &Gpr::rbp, &Gpr::r8,
          &Gpr::r9,  &Gpr::r10, &Gpr::r11, &Gpr::r12, &Gpr::r13, &Gpr::r14, &Gpr::r15};
}

bool near_page(uint64_t v) {
  return v >= kPageBase - kBelowSlack && v < vsyscall::kPageEnd;
}

// Maps [copy of the page image][PROT_NONE page] in the tracee; returns the copy's address.
uint64_t map_shadow(pid_t tid, std::vector<siginfo_t>& deferred) {
  RemoteSyscalls rs(tid);
  if (!rs.ok()) return 0;
  auto addr = rs.syscall(SYS_mmap, 0, 2 * kPageSize, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0);
  uint64_t shadow = 0;
  if (addr && *addr > 0) {
    const uint64_t a = static_cast<uint64_t>(*addr);
    ProcessMemory mem(tid);
    if (mem.write(a, vsyscall::page_image()) &&
        rs.syscall(SYS_mprotect, a, kPageSize, PROT_READ).value_or(-1) == 0 &&
        rs.syscall(SYS_mprotect, a + kPageSize, kPageSize, PROT_NONE).value_or(-1) == 0)
      shadow = a;
  }
  deferred.insert(deferred.end(), rs.deferred_signals().begin(), rs.deferred_signals().end());
  return shadow;
}

}  // namespace

DisplacedRead run_displaced_read(pid_t tid, const Gpr& regs, uint64_t fault_addr,
                                 uint64_t& shadow) {
  DisplacedRead out;
  // The base register: the one pointing into the page closest at or below the faulting address.
  unsigned long long Gpr::*reg = nullptr;
  for (auto r : address_registers()) {
    const uint64_t v = regs.*r;
    if (!near_page(v) || v > fault_addr) continue;
    if (reg && regs.*reg == v) return out;  // two equal candidates: cannot tell them apart
    if (!reg || v > regs.*reg) reg = r;
  }
  if (!reg) return out;
  if (!shadow) shadow = map_shadow(tid, out.deferred);
  if (!shadow) return out;
  const uint64_t delta = shadow - kPageBase;

  Gpr w = regs;
  w.*reg += delta;
  if (!set_regs(tid, w)) return {DisplacedRead::Status::kGone, 0, out.deferred};
  // A rep string instruction traps after every iteration: step until rip moves on.
  for (int steps = 0; steps < 1 << 20; ++steps) {
    if (ptrace(PTRACE_SINGLESTEP, tid, nullptr, nullptr) != 0) {
      out.status = DisplacedRead::Status::kGone;
      return out;
    }
    int status = 0;
    pid_t p;
    while ((p = waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {
    }
    if (p < 0 || !WIFSTOPPED(status)) {
      out.status = DisplacedRead::Status::kGone;
      return out;
    }
    const int sig = WSTOPSIG(status);
    if ((status >> 16) != 0) continue;  // an event stop: step again
    auto now = get_regs(tid);
    auto si = get_siginfo(tid);
    if (!now || !si) {
      out.status = DisplacedRead::Status::kGone;
      return out;
    }
    if (sig == SIGTRAP && si->si_code == TRAP_TRACE) {
      if (now->rip == regs.rip) continue;  // one more rep iteration
      // Put the register back on the real page, unless the instruction replaced its value.
      auto& value = (*now).*reg;
      if (value >= shadow - kBelowSlack && value < shadow + 2 * kPageSize) value -= delta;
      set_regs(tid, *now);
      out.status = DisplacedRead::Status::kDone;
      return out;
    }
    if (sig == SIGSEGV || sig == SIGBUS) {
      uint64_t at = reinterpret_cast<uint64_t>(si->si_addr);
      if (at >= shadow && at < shadow + 2 * kPageSize) at -= delta;
      set_regs(tid, regs);
      out.status = DisplacedRead::Status::kFault;
      out.fault_addr = at;
      return out;
    }
    // Another signal for the program got there first: keep it for later and try again.
    out.deferred.push_back(*si);
  }
  set_regs(tid, regs);
  return out;
}

}  // namespace emulator
