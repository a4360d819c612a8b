// Call-site patching (DESIGN.md 2, 7): after a legacy call site's first stop, rewrite the
// address it calls so that it enters a trampoline page in the process, which calls the
// injected vDSO and stops no more. vsyscall/call_site.h recognises the site and
// vsyscall/trampoline.h builds the code; this file maps the page and writes the bytes with
// ptrace, keeps the per-process state, and reads the per-site call counters back.
//
// Counters live in one shared memory object that vdsorun maps too, so that calls made
// without a stop are counted even after the process is gone. Each process maps all of it
// right after its trampoline page; a fork shares its parent's counters (its calls are counted
// at the parent's sites).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/trace/unique_fd.h"
#include "vsyscall/call_site.h"
#include "vsyscall/cpu_state.h"
#include "vsyscall/page.h"
#include "vsyscall/trampoline.h"

namespace emulator {

class CallPatcher {
 public:
  CallPatcher(pid_t supervisor, vsyscall::TrampolineFlavor flavor);
  ~CallPatcher();
  CallPatcher(const CallPatcher&) = delete;
  CallPatcher& operator=(const CallPatcher&) = delete;

  // False if the counters object could not be made: then nothing is ever patched.
  bool ok() const { return counters_ != nullptr; }

  // A new image in `pid` whose vDSO functions are at `fns` (nullopt: no vDSO of ours, so no
  // patching in that image).
  void on_exec(pid_t pid, std::optional<vsyscall::VdsoFunctions> fns);
  // A new process that shares the parent's patched code (fork).
  void on_fork(pid_t parent, pid_t child);
  // A second thread (or a fork) can now increment `pid`'s counters at the same time as this
  // one: its stubs count with a locked increment from now on. No thread of `pid` may be
  // running user code (the new thread has not run yet; the caller is stopped).
  void on_shared_counters(pid_t pid);
  void on_exit(pid_t pid) { procs_.erase(pid); }
  // The process (or a filter it inherited) has seccomp filters of its own: its calls must go
  // through the page, where they apply.
  void disable(pid_t pid) { procs_[pid].disabled = true; }
  bool has_patches(pid_t pid) const;

  // Whether the call from `return_address` in `pid` should be patched now (once per site).
  bool wants(pid_t pid, uint64_t return_address);

  struct Result {
    bool patched = false;
    std::string form;    // the recognised code, for the report
    std::string reason;  // why not, if not
    uint32_t counter = 0;
  };
  // Patches the site of the call to `entry` that returned to `return_address`. `tid` is in a
  // ptrace stop in user code (not at a syscall) and is used to run the set-up syscalls;
  // `stop_others` stops every other thread of the process and returns a function that
  // resumes them (the set-up runs and the code is rewritten while all are stopped). Signals that arrived while the
  // set-up ran are appended to `deferred`.
  using StopOthers = std::function<std::function<void()>()>;
  Result patch(pid_t pid, pid_t tid, vsyscall::Entry entry, uint64_t return_address,
               const StopOthers& stop_others, std::vector<siginfo_t>& deferred);

  // A SIGSEGV at `regs` (a thread of `pid`) on one of the trampoline's copies to the program's
  // pointer: the registers of the call as made, to run it again the slow way (and the call is
  // no longer counted as patched). nullopt if the fault is not one of those.
  std::optional<vsyscall::Gpr> rewind(pid_t pid, pid_t tid, const vsyscall::Gpr& regs);

  // Puts back every patched site's original bytes (all threads stopped by `stop_others`).
  void unpatch_all(pid_t pid, pid_t tid, const StopOthers& stop_others);

  // Calls made through counter `index` so far.
  uint64_t count(uint32_t index) const;

 private:
  struct Site {
    uint64_t field_addr = 0;
    std::vector<uint8_t> original;
    std::vector<uint8_t> patched;
    uint64_t stub = 0;
  };
  struct Process {
    std::optional<vsyscall::VdsoFunctions> fns;
    uint64_t page = 0;  // the trampoline page, 0 until the first patch
    size_t stubs = 0;   // stubs used
    bool disabled = false;
    bool shared = false;  // counters other threads or processes increment too: lock
    std::set<uint64_t> attempted;  // return addresses
    std::vector<Site> sites;
    std::unordered_map<uint64_t, uint32_t> stub_counter;  // stub address -> counter index
  };
  bool map_trampoline(Process& p, pid_t pid, pid_t tid, std::vector<siginfo_t>& deferred,
                      std::string& why);

  pid_t supervisor_;
  vsyscall::TrampolineFlavor flavor_;
  UniqueFd counters_fd_;
  uint64_t* counters_ = nullptr;
  uint32_t next_counter_ = 0;
  std::unordered_map<pid_t, Process> procs_;
};

// Bytes of the shared counters object: one 8-byte counter per patched site of the whole run.
inline constexpr uint64_t kPatchCountersSize = 64 * 1024;

}  // namespace emulator
