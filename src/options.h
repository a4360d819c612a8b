// The command line: `vdsorun [options] [--] PROGRAM [ARGS...]` or `vdsorun [options] -p PID`.
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/clock/time_transform.h"
#include "emulator/trace/engine.h"
#include "emulator/log.h"
#include "vsyscall/mode.h"

namespace cli {

struct Options {
  vsyscall::Mode vsyscall_mode = vsyscall::Mode::kEmulate;
  emulator::VdsoMode vdso_mode = emulator::VdsoMode::kInject;
  bool patch = true;  // --patch=auto
  // --time, --offset, --rate, --freeze: the tree's virtual clocks.
  emulator::TimeControl time;
  bool quiet = false;
  std::optional<std::string> report_file;
  emulator::LogLevel log_level = emulator::LogLevel::kWarn;
  bool help = false;
  bool version = false;
  // PROGRAM and its arguments (program_args[0] is PROGRAM); empty with -p.
  std::vector<std::string> program_args;
  // -p PID: attach to this running process (all its threads) instead of starting a program.
  std::optional<pid_t> attach_pid;
  // --attach-tree: with -p, its existing descendants too.
  bool attach_tree = false;
};

// A bad command line; main() prints it and exits 125.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where vdsorun's own options end: the index of PROGRAM in args (args[0] is "vdsorun"), or
// args.size() if there is none. Options stop at "--" or at the first word that is not an
// option or an option's value, so that PROGRAM's own options are never taken as ours.
size_t program_index(const std::vector<std::string>& args);

// Parses args (args[0] is the command name). `log_env` is $VDSORUN_LOG (may be null); the
// command line wins over it. Throws UsageError.
Options parse_options(const std::vector<std::string>& args, const char* log_env);

std::string help_text();

}  // namespace cli
