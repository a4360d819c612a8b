// Attaching to programs that are already running (vdsorun -p PID): PTRACE_SEIZE of every
// thread of a process (and, if asked, of its existing descendants), and a refusal the user
// can act on when the kernel says no. Detaching is the engine's (Engine::run_attached).
//
// Nothing done here outlives vdsorun: no PTRACE_O_EXITKILL (vdsorun's death must not kill
// the program) and no seccomp filter (one whose SECCOMP_RET_TRACE finds no tracer turns the
// calls it traps into -ENOSYS).
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace emulator {

// vdsorun could not attach; main() prints "vdsorun: <what>" and exits 125.
class AttachError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The ptrace options of an attached tracee: follow forks, vforks, clones and execs; no
// EXITKILL, and no TRACESECCOMP (there is no filter of ours; a program's own
// SECCOMP_RET_TRACE then gets -ENOSYS, as it did before we came).
long attach_options();

// What the kernel and /proc say about a process vdsorun could not seize: the facts the
// refusal message is made from (gathered by attach_facts(), or by a test).
struct AttachFacts {
  int seize_errno = 0;          // errno of PTRACE_SEIZE
  bool exists = true;           // /proc/PID exists
  char state = '?';             // State: of /proc/PID/status ('Z' zombie)
  bool kernel_thread = false;   // no user memory (no VmSize line)
  pid_t tracer = 0;             // TracerPid:
  std::string tracer_name;      // its comm, if known
  std::vector<long> uids;       // Uid: real, effective, saved, fs
  long our_uid = 0;             // vdsorun's effective uid
  bool cap_sys_ptrace = false;  // vdsorun has CAP_SYS_PTRACE in its effective set
  int yama_scope = -1;          // /proc/sys/kernel/yama/ptrace_scope, -1 without Yama
};

// Reads the facts for `pid` after PTRACE_SEIZE failed with `seize_errno`.
AttachFacts attach_facts(pid_t pid, int seize_errno);

// Why vdsorun may not attach to `pid`, in words (after "cannot attach to process PID: ").
// Pure: the first reason that applies, in the order a user can act on them.
std::string explain_refusal(pid_t pid, const AttachFacts& f);

// A process seized with all its threads.
struct AttachedProcess {
  pid_t pid = 0;
  std::vector<pid_t> threads;  // seized by us (threads it started meanwhile are followed)
};

// Seizes every thread of process `pid` (a thread id stands for its process), then, with
// `tree`, every process descended from it, until a pass over /proc finds nothing new.
// Throws AttachError if `pid` itself cannot be attached (with explain_refusal()'s reason);
// a descendant that cannot be attached is skipped with a warning. The threads keep running.
std::vector<AttachedProcess> attach_to(pid_t pid, bool tree);

// The children of every process, from /proc/*/stat: the processes descended from `pid`
// (not `pid` itself), parents before children.
std::vector<pid_t> descendants_of(pid_t pid);

}  // namespace emulator
