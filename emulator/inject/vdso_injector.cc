// One run of the injection stub at the entry point (one ptrace stop), or, where it does not
// fit, six remote syscalls (two stops each): open+mmap+close for the vvar (reserving room for
// the image too), then open+mmap(MAP_FIXED)+close for the image. Then the auxv rewrite on the
// new stack.
#include "emulator/inject/vdso_injector.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "emulator/inject/auxv.h"
#include "emulator/inject/inject_stub.h"
#include "emulator/log.h"
#include "emulator/trace/maps.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"
#include "emulator/trace/remote_syscall.h"
#include "emulator/trace/seccomp_policy.h"

namespace emulator {
namespace {

bool is_error(long v) {
  return v < 0 && v > -4096;
}

// The kernel's vDSO of the new image: /proc/PID/auxv is the kernel's own copy of the auxiliary
// vector, which the rewrite of the stack copy never changes. 0 if it has none.
uint64_t kernel_vdso_of(pid_t tid) {
  const auto auxv = read_text_file("/proc/" + std::to_string(tid) + "/auxv");
  if (!auxv) return 0;
  for (size_t off = 0; off + 16 <= auxv->size(); off += 16) {
    uint64_t pair[2];
    std::memcpy(pair, auxv->data() + off, sizeof pair);
    if (pair[0] == AT_SYSINFO_EHDR) return pair[1];
    if (pair[0] == AT_NULL) break;
  }
  return 0;
}

std::string errno_text(long v) {
  return std::strerror(static_cast<int>(-v));
}

std::string fd_path(pid_t self, int fd) {
  return "/proc/" + std::to_string(self) + "/fd/" + std::to_string(fd);
}

// Opens vdsorun's descriptor `fd` in the tracee, read-only; returns the tracee's fd.
std::optional<long> open_ours(RemoteSyscalls& rs, pid_t self, int fd, std::string& why) {
  const std::string path = fd_path(self, fd);
  auto addr = rs.push_bytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(path.c_str()), path.size() + 1));
  if (!addr) {
    why = "no scratch memory on the new stack";
    return std::nullopt;
  }
  auto r = rs.syscall(SYS_openat, static_cast<uint64_t>(AT_FDCWD), *addr, O_RDONLY | O_CLOEXEC);
  if (!r) {
    why = "the process vanished";
    return std::nullopt;
  }
  if (is_error(*r)) {
    why = "open(" + path + ") in the program failed: " + errno_text(*r);
    return std::nullopt;
  }
  return *r;
}

}  // namespace

namespace {

// The remote part: maps both objects, returns the vvar address. Registers and borrowed bytes
// are restored when `rs` goes out of scope in the caller.
std::optional<uint64_t> map_objects(RemoteSyscalls& rs, const InjectionAssets& a,
                                    std::string& why) {
  auto vvar_fd = open_ours(rs, a.supervisor_pid, a.vvar_fd, why);
  if (!vvar_fd) return std::nullopt;
  // One mapping of the whole span at an address the kernel picks keeps vvar and image
  // adjacent; the image then replaces its upper part.
  const uint64_t span = a.vvar_size + a.image_size;
  auto base =
      rs.syscall(SYS_mmap, 0, span, PROT_READ, MAP_SHARED, static_cast<uint64_t>(*vvar_fd), 0);
  rs.syscall(SYS_close, static_cast<uint64_t>(*vvar_fd));
  if (!base || is_error(*base)) {
    why = base ? "mmap of the vvar failed: " + errno_text(*base) : "the process vanished";
    return std::nullopt;
  }
  const uint64_t vvar = static_cast<uint64_t>(*base);
  auto image_fd = open_ours(rs, a.supervisor_pid, a.image_fd, why);
  std::optional<long> mapped;
  if (image_fd) {
    mapped = rs.syscall(SYS_mmap, vvar + a.vvar_size, a.image_size, PROT_READ | PROT_EXEC,
                        MAP_PRIVATE | MAP_FIXED, static_cast<uint64_t>(*image_fd), 0);
    rs.syscall(SYS_close, static_cast<uint64_t>(*image_fd));
    if (!mapped || is_error(*mapped))
      why =
          mapped ? "mmap of the vDSO image failed: " + errno_text(*mapped) : "the process vanished";
  }
  if (!mapped || is_error(*mapped)) {
    rs.syscall(SYS_munmap, vvar, span);
    return std::nullopt;
  }
  return vvar;
}

// Code bytes of the tracee replaced by ours; put back by restore() or, at the latest, the
// destructor, unless the tracee is gone.
class BorrowedCode {
 public:
  BorrowedCode(pid_t tid, uint64_t at, std::span<const uint8_t> code)
      : mem_(tid), at_(at), saved_(code.size()) {
    if (mem_.read_partial(at, saved_) != saved_.size()) return;
    borrowed_ = true;
    if (!mem_.poke(at, code)) restore();
  }
  ~BorrowedCode() { restore(); }
  BorrowedCode(const BorrowedCode&) = delete;
  BorrowedCode& operator=(const BorrowedCode&) = delete;
  bool ok() const { return borrowed_; }
  void restore() {
    if (borrowed_) mem_.poke(at_, saved_);
    borrowed_ = false;
  }
  void forget() { borrowed_ = false; }  // the tracee died: nothing to put back

 private:
  ProcessMemory mem_;
  uint64_t at_;
  std::vector<uint8_t> saved_;
  bool borrowed_ = false;
};

struct StubRun {
  enum class Kind {
    kUnfit,  // the stub cannot run here; nothing in the tracee was changed
    kGone,   // the tracee died
    kDone,   // ran; `vvar` is the mapping, or nullopt (why says why; nothing left mapped)
  } kind;
  std::optional<uint64_t> vvar;
};

std::string stub_failure(const InjectStubResult& r, const InjectStubParams& p) {
  using F = InjectStubResult::Failed;
  switch (r.failed) {
    case F::kOpenVvar:
      return "open(" + p.vvar_path + ") in the program failed: " + errno_text(r.error);
    case F::kMapVvar:
      return "mmap of the vvar failed: " + errno_text(r.error);
    case F::kOpenImage:
      return "open(" + p.image_path + ") in the program failed: " + errno_text(r.error);
    case F::kMapImage:
      return "mmap of the vDSO image failed: " + errno_text(r.error);
    case F::kNothing:
      break;
  }
  return "";
}

// Writes the stub at rip (the new image's entry point), runs it to its marker and puts
// everything back: the code bytes, and every register as the exec left it.
StubRun run_stub(pid_t tid, const InjectionAssets& a, std::vector<siginfo_t>& deferred,
                 std::string& why) {
  const StubRun gone{StubRun::Kind::kGone, std::nullopt};
  const auto regs = get_regs(tid);
  if (!regs) {
    why = "the process vanished";
    return gone;
  }
  const InjectStubParams params{fd_path(a.supervisor_pid, a.vvar_fd),
                                fd_path(a.supervisor_pid, a.image_fd), a.vvar_size, a.image_size};
  const InjectStub stub = build_inject_stub(params);
  const uint64_t at = regs->rip;
  // The whole stub must lie in one executable mapping: the CPU runs it from there.
  const auto maps = read_maps(tid);
  const MapEntry* m = find_mapping(maps, at);
  if (!m || m->perms.size() < 3 || m->perms[2] != 'x' || m->end - at < stub.bytes.size())
    return {StubRun::Kind::kUnfit, std::nullopt};
  BorrowedCode code(tid, at, stub.bytes);
  if (!code.ok()) return {StubRun::Kind::kUnfit, std::nullopt};

  // rip already points at the stub; it needs no other input. The execve has not returned
  // yet: on the way out the kernel stores its result (0) in rax, which the stub ignores.
  if (!cont(tid, 0)) {
    code.forget();
    why = "the process vanished";
    return gone;
  }
  std::optional<vsyscall::Gpr> done;
  while (!done) {
    int status = 0;
    if (waitpid(tid, &status, __WALL) < 0) {
      if (errno == EINTR) continue;
      code.forget();
      why = "waitpid: " + std::string(std::strerror(errno));
      return gone;
    }
    if (!WIFSTOPPED(status)) {  // killed (SIGKILL) while it ran our code
      code.forget();
      why = "the process died during the injection";
      return gone;
    }
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    const auto now = get_regs(tid);
    if (!now) {
      code.forget();
      why = "the process vanished";
      return gone;
    }
    if (event == PTRACE_EVENT_SECCOMP) {
      // The marker (filter rule kTraceDataInjectDone) at the end of the stub. Any other
      // seccomp stop is a filter of the program asking for a tracer: let that syscall run.
      const auto data = get_event_msg(tid);
      if (data && *data == kTraceDataInjectDone && now->rip == at + stub.marker_end) done = now;
    } else if (event == 0 && sig == SIGILL && now->rip == at + stub.ud2) {
      // The marker did not stop: a filter the program inherited answered ERRNO for getpid
      // (ERRNO outranks TRACE), or the process lacks ours. The stub's results are in its
      // registers all the same: done too. The SIGILL is ours; it is dropped.
      done = now;
    } else if (event == 0) {
      auto si = get_siginfo(tid);
      // A filter of the program answered TRAP for the marker: that SIGSYS is ours; the stub
      // runs on into its `ud2`.
      const bool our_sigsys = sig == SIGSYS && si && si->si_code == 1 /* SYS_SECCOMP */ &&
                              reinterpret_cast<uint64_t>(si->si_call_addr) == at + stub.marker_end;
      if (!our_sigsys && si) {
        // A signal for the program: keep it for later, as RemoteSyscalls does.
        deferred.push_back(*si);
        VDSORUN_LOG(kDebug, "pid %d: signal %d deferred during the vDSO injection", tid, sig);
      }
    }
    if (!done && !cont(tid, 0)) {
      code.forget();
      why = "the process vanished";
      return gone;
    }
  }

  const InjectStubResult r =
      interpret_inject_stub(done->r12, done->r13, done->r14, done->r15, params);
  code.restore();
  // Every register as the exec left it. orig_rax = -1 skips the marker syscall (at its
  // seccomp stop) and rules out a syscall restart (at the SIGILL stop). rax = 0 is what
  // execve returns: the kernel would have stored it over the entry code's -ENOSYS, but it
  // does not write rax again after either stop.
  vsyscall::Gpr restored = *regs;
  restored.orig_rax = static_cast<uint64_t>(-1);
  restored.rax = 0;
  if (!set_regs(tid, restored)) {
    why = "the process vanished";
    return gone;
  }
  if (r.failed == InjectStubResult::Failed::kNothing) return {StubRun::Kind::kDone, r.base};
  why = stub_failure(r, params);
  if (r.base) {
    // Rare: undo the half-done mapping with one remote syscall.
    RemoteSyscalls rs(tid);
    if (rs.ok()) rs.syscall(SYS_munmap, r.base, r.span);
    deferred.insert(deferred.end(), rs.deferred_signals().begin(), rs.deferred_signals().end());
    if (!rs.alive()) return gone;
  }
  return {StubRun::Kind::kDone, std::nullopt};
}

}  // namespace

std::optional<Injected> inject_vdso(pid_t tid, const InjectionAssets& a,
                                    std::vector<siginfo_t>& deferred, std::string& why) {
  std::optional<uint64_t> vvar;
  const StubRun run = run_stub(tid, a, deferred, why);
  if (run.kind == StubRun::Kind::kGone) return std::nullopt;
  if (run.kind == StubRun::Kind::kDone) {
    vvar = run.vvar;
  } else {
    VDSORUN_LOG(kDebug,
                "pid %d: the injection stub does not fit at the entry point; "
                "using remote syscalls",
                tid);
    RemoteSyscalls rs(tid);
    if (!rs.ok()) {
      why = "cannot borrow code bytes at the entry point";
      return std::nullopt;
    }
    vvar = map_objects(rs, a, why);
    deferred.insert(deferred.end(), rs.deferred_signals().begin(), rs.deferred_signals().end());
  }  // registers and borrowed bytes restored here
  if (!vvar) return std::nullopt;
  Injected out{*vvar, *vvar + a.vvar_size, kernel_vdso_of(tid)};
  // Link this process's copy of the image before anything points at it. A write through
  // /proc/PID/mem (like a debugger's) copies the page: the memfd stays as it was. If it fails
  // the mapping stays unused and the program keeps the kernel's vDSO.
  const HostVdso::Linked linked =
      a.host.link(a.image, out.host_vdso, out.vdso_addr, a.links, a.transformed);
  if (linked.bytes.empty() ||
      !ProcessMemory(tid).poke(out.vdso_addr + linked.offset, linked.bytes)) {
    why = "cannot write the injected image's host table";
    return std::nullopt;
  }
  if (!rewrite_sysinfo_ehdr(tid, out.vdso_addr)) {
    why = "the new stack has no AT_SYSINFO_EHDR to rewrite";
    return std::nullopt;
  }
  return out;
}

}  // namespace emulator
