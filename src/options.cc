// Boost.Program_options parses vdsorun's own options; the split between ours and PROGRAM's
// is done first, by hand, like env(1) and strace(1) do.
#include "src/options.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "src/time_options.h"

namespace cli {
namespace po = boost::program_options;

namespace {

// Options that take a value as the next word when written without '='.
bool takes_separate_value(const std::string& a) {
  return a == "-o" || a == "--report" || a == "--vsyscall" || a == "--vdso" || a == "--patch" ||
         a == "--log-level" || a == "--time" || a == "--offset" || a == "--rate" ||
         a == "-p" || a == "--pid";
}

// Boost.Program_options 1.74 fills the placeholders of its error messages (%canonical_option%,
// %value%, ...) by replacing until none is left, so a name or value that contains one loops for
// ever, growing the message: `vdsorun --%canonical_option% prog` hung (found by
// fuzz/options_fuzzer.cc). Boost never sees a '%': it is escaped before parsing and restored
// in values and in messages. \x01 escapes itself so that the mapping is one-to-one.
constexpr char kEscape = '\x01';

std::string escape_percent(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += kEscape;
      out += 'p';
    } else if (c == kEscape) {
      out += kEscape;
      out += kEscape;
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_percent(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == kEscape && i + 1 < s.size()) {
      out += s[++i] == 'p' ? '%' : kEscape;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A string option's value as the user wrote it.
std::string value_of(const po::variables_map& vm, const char* name) {
  return unescape_percent(vm[name].as<std::string>());
}

po::options_description describe() {
  po::options_description d("Options");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("vsyscall", po::value<std::string>()->value_name("MODE")->default_value("emulate"),
     "what calls to and reads of the legacy vsyscall page do, as on a kernel booted with "
     "vsyscall=MODE: none, xonly, emulate or native")
    ("vdso", po::value<std::string>()->value_name("MODE")->default_value("inject"),
     "inject: map vdsorun's vDSO and vvar page into every program; host: keep the kernel's "
     "vDSO; none: hide the vDSO (AT_SYSINFO_EHDR becomes AT_IGNORE)")
    ("patch", po::value<std::string>()->value_name("WHEN")->default_value("auto"),
     "auto: after a legacy call site's first call, rewrite it to call vdsorun's vDSO through "
     "a trampoline, so that it stops no more; off: every call stops")
    ("time", po::value<std::string>()->value_name("WHEN"),
     "CLOCK_REALTIME starts at WHEN (ISO 8601 with a zone, e.g. 2038-01-19T03:13:57Z, or "
     "@SECONDS) and runs on, for the whole tree")
    ("offset", po::value<std::string>()->value_name("DURATION"),
     "CLOCK_REALTIME shifted by DURATION (+10y, -36h, +1d2h; units y w d h m s ms us ns)")
    ("rate", po::value<std::string>()->value_name("R"),
     "every clock runs R times as fast (0 < R <= 1000); sleeps and timeouts are scaled with it")
    ("freeze", po::value<std::string>()->value_name("WHEN")->implicit_value(""),
     "CLOCK_REALTIME stands still (at WHEN, or where it is at start-up); the monotonic clocks "
     "run on. Only as --freeze or --freeze=WHEN")
    ("pid,p", po::value<std::string>()->value_name("PID"),
     "attach to the running process PID and all its threads instead of starting a program; "
     "follows the children it starts from then on; detaches on SIGINT, SIGTERM or SIGHUP, or "
     "when they have all ended")
    ("attach-tree", "with -p: attach to PID's existing descendants too")
    ("quiet,q", "do not print the vsyscall report at exit")
    ("report,o", po::value<std::string>()->value_name("FILE"),
     "write the report as JSON to FILE")
    ("verbose,v", "more diagnostic logging (repeat for more)")
    ("log-level", po::value<std::string>()->value_name("LEVEL"),
     "quiet, error, warn (default), info, debug or trace; overrides $VDSORUN_LOG");
  // clang-format on
  return d;
}

// --time, --offset, --rate, --freeze, and the combinations that mean something.
void parse_time_control(const po::variables_map& vm, emulator::TimeControl& t) {
  std::string error;
  auto fail = [&](const char* option) { throw UsageError(std::string(option) + ": " + error); };
  if (vm.count("time")) {
    auto when = parse_instant(value_of(vm, "time"), error);
    if (!when) fail("--time");
    t.realtime_start_ns = *when;
  }
  if (vm.count("offset")) {
    auto d = parse_duration(value_of(vm, "offset"), error);
    if (!d) fail("--offset");
    t.realtime_offset_ns = *d;
  }
  if (vm.count("rate")) {
    auto r = parse_rate(value_of(vm, "rate"), emulator::ClockTransform::kMaxRate, error);
    if (!r) fail("--rate");
    t.rate = *r;
  }
  if (vm.count("freeze")) {
    t.freeze = true;
    const std::string when = value_of(vm, "freeze");
    if (!when.empty()) {
      if (t.realtime_start_ns)
        throw UsageError("--freeze=WHEN and --time=WHEN both say where the clock is: give one "
                         "(--time=WHEN --freeze freezes it at WHEN)");
      auto w = parse_instant(when, error);
      if (!w) fail("--freeze");
      t.realtime_start_ns = *w;
    }
  }
  if (t.realtime_start_ns && vm.count("offset"))
    throw UsageError("--offset and a WHEN both say where the clock is: give one");
}

// A process id as -p takes it: decimal digits only, 1 up to the largest pid_t.
std::optional<pid_t> parse_pid(const std::string& s) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const long long v = std::stoll(s);
  if (v < 1 || v > 0x7fffffff) return std::nullopt;
  return static_cast<pid_t>(v);
}

}  // namespace

size_t program_index(const std::vector<std::string>& args) {
  size_t i = 1;
  while (i < args.size()) {
    const std::string& a = args[i];
    if (a == "--") return i + 1;
    if (a.size() < 2 || a[0] != '-') return i;
    i += takes_separate_value(a) ? 2 : 1;
  }
  return std::min(i, args.size());
}

Options parse_options(const std::vector<std::string>& args, const char* log_env) {
  Options o;
  const size_t prog = program_index(args);
  // -v and -q may be repeated (-v -v, -vv, -q -q): Boost refuses an option given twice, so
  // count them here.
  std::vector<std::string> ours;
  int verbose = 0;
  bool quiet = false;
  auto repeated_short = [](const std::string& a, char c) {
    return a.size() >= 2 && a[0] == '-' && a[1] == c &&
           a.find_first_not_of(c, 1) == std::string::npos;
  };
  for (size_t i = 1; i < prog && i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a == "--verbose") {
      ++verbose;
    } else if (repeated_short(a, 'v')) {
      verbose += static_cast<int>(a.size()) - 1;
    } else if (a == "--quiet" || repeated_short(a, 'q')) {
      quiet = true;
    } else {
      ours.push_back(escape_percent(a));
    }
    if (takes_separate_value(a) && i + 1 < prog) ours.push_back(escape_percent(args[++i]));
  }
  o.program_args.assign(args.begin() + static_cast<long>(std::min(prog, args.size())), args.end());

  po::variables_map vm;
  try {
    // parsed_options keeps a pointer to the description: it must outlive store().
    const po::options_description desc = describe();
    po::parsed_options parsed = po::command_line_parser(ours).options(desc).run();
    po::store(parsed, vm);
    po::notify(vm);
    if (verbose > 0)
      o.log_level = static_cast<emulator::LogLevel>(
          std::min(static_cast<int>(emulator::LogLevel::kWarn) + verbose,
                   static_cast<int>(emulator::LogLevel::kTrace)));
  } catch (const po::error& e) {
    throw UsageError(unescape_percent(e.what()));
  }
  o.help = vm.count("help") > 0;
  o.version = vm.count("version") > 0;
  o.quiet = quiet || vm.count("quiet") > 0;
  const std::string mode = value_of(vm, "vsyscall");
  auto m = vsyscall::parse_mode(mode);
  if (!m) throw UsageError("invalid --vsyscall mode '" + mode + "' (none, xonly, emulate, native)");
  o.vsyscall_mode = *m;
  const std::string vdso = value_of(vm, "vdso");
  if (vdso == "inject")
    o.vdso_mode = emulator::VdsoMode::kInject;
  else if (vdso == "host")
    o.vdso_mode = emulator::VdsoMode::kHost;
  else if (vdso == "none")
    o.vdso_mode = emulator::VdsoMode::kNone;
  else
    throw UsageError("invalid --vdso mode '" + vdso + "' (inject, host, none)");
  const std::string patch = value_of(vm, "patch");
  if (patch == "auto")
    o.patch = true;
  else if (patch == "off")
    o.patch = false;
  else
    throw UsageError("invalid --patch value '" + patch + "' (auto, off)");
  parse_time_control(vm, o.time);
  if (vm.count("report")) {
    o.report_file = value_of(vm, "report");
    if (o.report_file->empty()) throw UsageError("--report needs a file name");
  }
  if (vm.count("log-level")) {
    const std::string level = value_of(vm, "log-level");
    auto l = emulator::parse_log_level(level);
    if (!l) throw UsageError("invalid --log-level '" + level + "'");
    o.log_level = *l;
  } else if (log_env && *log_env && verbose == 0) {
    auto l = emulator::parse_log_level(log_env);
    if (!l) throw UsageError(std::string("invalid VDSORUN_LOG value '") + log_env + "'");
    o.log_level = *l;
  }
  if (vm.count("pid")) {
    const std::string pid = value_of(vm, "pid");
    o.attach_pid = parse_pid(pid);
    if (!o.attach_pid) throw UsageError("invalid process id '" + pid + "' for -p");
  }
  o.attach_tree = vm.count("attach-tree") > 0;
  if (o.attach_tree && !o.attach_pid) throw UsageError("--attach-tree needs -p PID");
  // A running process keeps the clocks it has been reading (no filter can be added to it).
  if (o.attach_pid && o.time.active())
    throw UsageError("--time, --offset, --rate and --freeze need a program vdsorun starts, not -p");
  if (o.attach_pid && !o.program_args.empty())
    throw UsageError("-p PID and a PROGRAM to run cannot be given together");
  if (!o.help && !o.version && !o.attach_pid && o.program_args.empty())
    throw UsageError("no program given");
  return o;
}

std::string help_text() {
  std::ostringstream s;
  s << "Usage: vdsorun [options] [--] PROGRAM [ARGS...]\n"
       "       vdsorun [options] -p PID [--attach-tree]\n"
       "       vdsorun scan [--json] PATH...   (see vdsorun scan --help)\n"
       "Run PROGRAM (and everything it starts) with the legacy vsyscall page behaving as on a\n"
       "kernel booted with vsyscall=MODE, and with vdsorun's own vDSO. With -p, do so for a\n"
       "process that is already running, as far as that can be done from outside (vdsorun(1),\n"
       "ATTACHING).\n\n"
    << describe()
    << "\nExit status: PROGRAM's; 128+N if it was killed by signal N; 125 if vdsorun itself\n"
       "failed; 126 if PROGRAM is not executable; 127 if it was not found. With -p: 0 once\n"
       "vdsorun has detached (or everything it was attached to has ended); 125 if it could\n"
       "not attach.\n"
       "Environment: VDSORUN_LOG=LEVEL sets the log level. See vdsorun(1).\n";
  return s.str();
}

}  // namespace cli
