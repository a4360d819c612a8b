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

// One process's patches: the image's vDSO functions, its trampoline page, its patched sites.
// The engine keeps it with the rest of the process (emulator/trace/process.h); a fork copies
// it, an exec starts a new one.
struct PatchState {
  struct Site {
    uint64_t field_addr = 0;
    std::vector<uint8_t> original;
    std::vector<uint8_t> patched;
    uint64_t stub = 0;
  };
  std::optional<vsyscall::VdsoFunctions> fns;  // none: no vDSO of ours, nothing is patched
  uint64_t page = 0;                           // the trampoline page, 0 until the first patch
  size_t stubs = 0;                            // stubs used
  bool disabled = false;  // seccomp filters of its own: calls must go through the page
  bool shared = false;    // counters other threads or processes increment too: lock
  std::set<uint64_t> attempted;  // return addresses
  std::vector<Site> sites;
  std::unordered_map<uint64_t, uint32_t> stub_counter;  // stub address -> counter index
};

class CallPatcher {
 public:
  CallPatcher(pid_t supervisor, vsyscall::TrampolineFlavor flavor);
  ~CallPatcher();
  CallPatcher(const CallPatcher&) = delete;
  CallPatcher& operator=(const CallPatcher&) = delete;

  // False if the counters object could not be made: then nothing is ever patched.
  bool ok() const { return counters_ != nullptr; }

  // A second thread or a fork can now increment the counters of process `pid` (state `p`) at
  // the same time as this one: its stubs count with a locked increment from now on. No thread
  // of `pid` may be running user code (the new thread has not run yet; the caller is stopped).
  void on_shared_counters(PatchState& p, pid_t pid);

  // Whether the call from `return_address` should be patched now (once per site).
  bool wants(PatchState& p, uint64_t return_address);

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
  Result patch(PatchState& p, pid_t pid, pid_t tid, vsyscall::Entry entry,
               uint64_t return_address, const StopOthers& stop_others,
               std::vector<siginfo_t>& deferred);

  // A SIGSEGV at `regs` (a thread of `pid`) on one of the trampoline's copies to the program's
  // pointer: the registers of the call as made, to run it again the slow way (and the call is
  // no longer counted as patched), and where the divide error that clears the thread's trap
  // number is. nullopt if the fault is not one of those.
  struct Rewound {
    vsyscall::Gpr call;
    uint64_t reset_trap = 0;    // the read of address 0 (resets cr2)
    uint64_t reset_divide = 0;  // the divide error after it (resets trap number, error code)
  };
  std::optional<Rewound> rewind(const PatchState& p, pid_t tid, const vsyscall::Gpr& regs);

  // Puts back every patched site's original bytes (all threads stopped by `stop_others`) and
  // patches nothing more in that process.
  void unpatch_all(PatchState& p, pid_t tid, const StopOthers& stop_others);

  // Calls made through counter `index` so far.
  uint64_t count(uint32_t index) const;

 private:
  bool map_trampoline(PatchState& p, pid_t pid, pid_t tid, std::vector<siginfo_t>& deferred,
                      std::string& why);

  pid_t supervisor_;
  vsyscall::TrampolineFlavor flavor_;
  UniqueFd counters_fd_;
  uint64_t* counters_ = nullptr;
  uint32_t next_counter_ = 0;
};

// Bytes of the shared counters object: one 8-byte counter per patched site of the whole run.
inline constexpr uint64_t kPatchCountersSize = 64 * 1024;

}  // namespace emulator
