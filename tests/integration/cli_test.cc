// vdsorun as a command (DESIGN.md 5): real programs behave as without it, exit statuses,
// stdin/env/cwd/fds/arguments/signal dispositions pass through, messages, the JSON report.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "host.h"
#include "json.h"
#include "process.h"

namespace integration {
namespace {

std::vector<std::string> under_vdsorun(std::vector<std::string> options,
                                       const std::vector<std::string>& cmd) {
  std::vector<std::string> v = {vdsorun_path()};
  v.insert(v.end(), options.begin(), options.end());
  v.insert(v.end(), cmd.begin(), cmd.end());
  return v;
}

std::string program(const std::string& name, bool is_static = false) {
  return programs_dir() + "/" + name + (is_static ? "_static" : "");
}

// A temporary directory removed (with its files, one level) at scope exit.
class TempDir {
 public:
  TempDir() {
    const char* t = getenv("TMPDIR");
    std::string tmpl = std::string(t != nullptr && *t != '\0' ? t : "/tmp") + "/vdsorun-it-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { run_command({"rm", "-rf", path_}); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- real programs nobody wrote for vdsorun ---

struct RealProgram {
  const char* name;
  std::vector<std::string> argv;
};

const std::vector<RealProgram>& real_programs() {
  static const std::vector<RealProgram> p = {
      {"bash", {"bash", "-c", "date +%Y; ls / | wc -l; echo $((6*7))"}},
      {"sh_pipeline_exit3", {"sh", "-c", "for i in 1 2 3; do echo $i; done | sort -r; exit 3"}},
      {"ls", {"ls", "/"}},
      {"awk", {"awk", "BEGIN { print 6 * 7; srand(); print (srand() > 1600000000) }"}},
      {"python3",
       {"python3", "-c",
        "import time, os, sys; print(int(time.time()) > 1600000000, os.getcwd(), sys.argv[1:])",
        "a", "b c"}},
      {"perl",
       {"perl", "-e", "print((time > 1600000000 ? 'ok' : 'bad'), qq(\\n), 6 * 7, qq(\\n))"}},
  };
  return p;
}

struct RealCase {
  size_t program;
  const char* mode;  // "" = vdsorun's default
};

std::vector<RealCase> real_cases() {
  std::vector<RealCase> c;
  for (size_t p = 0; p < real_programs().size(); ++p) {
    for (const char* m : {"", "none", "xonly", "emulate", "native"}) c.push_back(RealCase{p, m});
  }
  return c;
}

class RealPrograms : public testing::TestWithParam<RealCase> {};

TEST_P(RealPrograms, BehaveAsWithoutVdsorun) {
  const RealProgram& p = real_programs()[GetParam().program];
  const std::string mode = GetParam().mode;
  if (find_in_path(p.argv[0]).empty()) GTEST_SKIP() << p.argv[0] << " is not in PATH";
  const RunResult direct = run_command(p.argv);
  ASSERT_TRUE(direct.exited) << direct.describe();
  std::vector<std::string> opts = {"-q"};
  if (!mode.empty()) opts.push_back("--vsyscall=" + mode);
  const RunResult traced = run_command(under_vdsorun(opts, p.argv));
  EXPECT_EQ(traced.status_text(), direct.status_text()) << traced.describe();
  EXPECT_EQ(traced.out, direct.out) << traced.describe();
  EXPECT_EQ(traced.err, direct.err);
}

INSTANTIATE_TEST_SUITE_P(Cli, RealPrograms, testing::ValuesIn(real_cases()),
                         [](const testing::TestParamInfo<RealCase>& info) {
                           std::string m = info.param.mode;
                           return std::string(real_programs()[info.param.program].name) + "__" +
                                  (m.empty() ? "default" : m);
                         });

// --- exit status policy ---

TEST(Cli, ExitCodesPassThrough) {
  for (int code : {0, 3, 77, 124, 255}) {
    const RunResult r =
        run_command(under_vdsorun({}, {"sh", "-c", "exit " + std::to_string(code)}));
    EXPECT_TRUE(r.exited && r.exit_code == code) << "exit " << code << ": " << r.describe();
  }
}

TEST(Cli, DeathBySignalGives128PlusSignal) {
  for (auto [name, sig] :
       {std::pair<const char*, int>{"TERM", 15}, {"SEGV", 11}, {"KILL", 9}, {"ABRT", 6}}) {
    const RunResult r = run_command(
        under_vdsorun({"-q"}, {"sh", "-c", std::string("kill -") + name + " $$; sleep 5"}));
    EXPECT_TRUE(r.exited && r.exit_code == 128 + sig) << name << ": " << r.describe();
  }
}

TEST(Cli, TraceeKilledBySegvFromVsyscallGives139) {
  const RunResult r =
      run_command(under_vdsorun({"--vsyscall=none"}, {program("call_entries"), "-n", "time"}));
  EXPECT_TRUE(r.exited && r.exit_code == 139) << r.describe();
}

TEST(Cli, MissingProgramGives127WithMessage) {
  for (const char* name : {"/nonexistent/vdsorun-test-program", "vdsorun-test-no-such-program"}) {
    const RunResult r = run_command(under_vdsorun({}, {name}));
    EXPECT_TRUE(r.exited && r.exit_code == 127) << name << ": " << r.describe();
    EXPECT_NE(r.err.find("vdsorun:"), std::string::npos) << r.describe();
  }
}

TEST(Cli, NonExecutableFileGives126WithMessage) {
  TempDir dir;
  const std::string file = dir.path() + "/not-executable";
  std::ofstream(file) << "#!/bin/sh\necho ran\n";
  chmod(file.c_str(), 0644);
  for (const std::string& path : {file, dir.path()}) {
    const RunResult r = run_command(under_vdsorun({}, {path}));
    EXPECT_TRUE(r.exited && r.exit_code == 126) << path << ": " << r.describe();
    EXPECT_NE(r.err.find("vdsorun:"), std::string::npos) << r.describe();
    EXPECT_EQ(r.out, "");
  }
}

TEST(Cli, BadOptionValuesGive125WithMessageAndDoNotRunTheProgram) {
  for (const char* opt : {"--vsyscall=bogus", "--vdso=bogus", "--log-level=bogus"}) {
    const RunResult r = run_command(under_vdsorun({opt}, {"sh", "-c", "echo RAN"}));
    EXPECT_TRUE(r.exited && r.exit_code == 125) << opt << ": " << r.describe();
    EXPECT_NE(r.err.find("vdsorun:"), std::string::npos) << r.describe();
    EXPECT_EQ(r.out, "") << opt;
  }
}

TEST(Cli, UnwritableReportFileGives125AndDoesNotRunTheProgram) {
  const RunResult r =
      run_command(under_vdsorun({"-o", "/nonexistent/dir/report.json"}, {"sh", "-c", "echo RAN"}));
  EXPECT_TRUE(r.exited && r.exit_code == 125) << r.describe();
  EXPECT_NE(r.err.find("vdsorun:"), std::string::npos) << r.describe();
  EXPECT_EQ(r.out, "");
}

// --- what the program inherits ---

TEST(Cli, StdinPassesThrough) {
  RunOptions o;
  o.stdin_data = "data\nmore data\n";
  const RunResult r = run_command(under_vdsorun({"-q"}, {"cat"}), o);
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_EQ(r.out, o.stdin_data);
}

TEST(Cli, ProgramSeesNoExtraFileDescriptors) {
  const std::vector<std::string> ls = {"ls", "/proc/self/fd"};
  const RunResult direct = run_command(ls);
  const RunResult traced = run_command(under_vdsorun({"-q"}, ls));
  ASSERT_TRUE(direct.exited && direct.exit_code == 0) << direct.describe();
  EXPECT_TRUE(traced.exited && traced.exit_code == 0) << traced.describe();
  EXPECT_EQ(traced.out, direct.out);
}

TEST(Cli, EnvironmentPassesThrough) {
  RunOptions o;
  o.env = current_environment();
  o.env->push_back("VDSORUN_IT_MARKER=a b=c");
  o.env->push_back("VDSORUN_IT_EMPTY=");
  const RunResult direct = run_command({"env"}, o);
  const RunResult traced = run_command(under_vdsorun({"-q"}, {"env"}), o);
  ASSERT_TRUE(direct.exited && direct.exit_code == 0) << direct.describe();
  std::vector<std::string> want = split_lines(direct.out), got = split_lines(traced.out);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_NE(traced.out.find("VDSORUN_IT_MARKER=a b=c\n"), std::string::npos);
}

TEST(Cli, WorkingDirectoryPassesThrough) {
  TempDir dir;
  RunOptions o;
  o.cwd = dir.path();
  const RunResult r = run_command(under_vdsorun({"-q"}, {"sh", "-c", "pwd -P"}), o);
  char real[4096];
  ASSERT_NE(realpath(dir.path().c_str(), real), nullptr);
  EXPECT_EQ(r.out, std::string(real) + "\n") << r.describe();
}

TEST(Cli, ArgumentsThatLookLikeOptionsBelongToTheProgram) {
  const std::vector<std::string> cmd = {"printf",          "[%s]", "a", "b c", "", "-q",
                                        "--vsyscall=none", "--",   "-o"};
  const RunResult direct = run_command(cmd);
  ASSERT_TRUE(direct.exited) << direct.describe();
  const RunResult traced = run_command(under_vdsorun({"-q"}, cmd));
  EXPECT_EQ(traced.out, direct.out) << traced.describe();
  std::vector<std::string> with_dashes = cmd;
  with_dashes.insert(with_dashes.begin(), "--");
  const RunResult traced2 = run_command(under_vdsorun({"-q"}, with_dashes));
  EXPECT_EQ(traced2.out, direct.out) << traced2.describe();
}

TEST(Cli, SignalMaskAndIgnoredSignalsPassThrough) {
  const std::vector<std::string> cmd = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
  const RunResult direct = run_command(cmd);
  const RunResult traced = run_command(under_vdsorun({"-q"}, cmd));
  ASSERT_TRUE(direct.exited && direct.exit_code == 0) << direct.describe();
  EXPECT_EQ(traced.out, direct.out) << traced.describe();
}

// --- the report ---

TEST(Cli, QuietPrintsNothingOnStderr) {
  const RunResult r =
      run_command(under_vdsorun({"-q"}, {program("call_entries"), "gettimeofday", "3"}));
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_EQ(r.err, "");
}

TEST(Cli, ReportOnStderrNamesTheEntryAndCount) {
  const RunResult r =
      run_command(under_vdsorun({}, {program("call_entries"), "gettimeofday", "3"}));
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  // The text format is vdsorun's (emulator/report/report.cc): "gettimeofday: 3 calls".
  EXPECT_NE(r.err.find("gettimeofday: 3 calls"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "OK gettimeofday calls=3\n");
}

// The process object of the report whose executable ends in `suffix`.
const JsonValue* find_process(const JsonValue& doc, const std::string& suffix) {
  const JsonValue* procs = doc.get("processes");
  if (procs == nullptr || procs->type != JsonValue::Type::kArray) return nullptr;
  for (const JsonValue& p : procs->items) {
    const JsonValue* exe = p.get("executable");
    if (exe != nullptr && exe->string.size() >= suffix.size() &&
        exe->string.compare(exe->string.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return &p;
    }
  }
  return nullptr;
}

double entry_calls(const JsonValue& process, const std::string& entry) {
  const JsonValue* entries = process.get("entries");
  const JsonValue* e = entries != nullptr ? entries->get(entry) : nullptr;
  const JsonValue* calls = e != nullptr ? e->get("calls") : nullptr;
  return calls != nullptr && calls->type == JsonValue::Type::kNumber ? calls->number : 0;
}

// Schema: man/vdsorun.1 and emulator/report/report.cc (version 1).
TEST(Cli, JsonReportCountsCallsPerEntry) {
  TempDir dir;
  for (bool is_static : {false, true}) {
    if (!is_static && !dynamic_programs_runnable()) continue;
    for (const char* mode : {"xonly", "emulate", "native"}) {
      SCOPED_TRACE(std::string(mode) + (is_static ? " static" : " dynamic"));
      const std::string file = dir.path() + "/report.json";
      const RunResult r =
          run_command(under_vdsorun({"-q", "-o", file, std::string("--vsyscall=") + mode},
                                    {program("call_entries", is_static), "gettimeofday", "3"}));
      ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
      std::string error;
      const std::optional<JsonValue> doc = parse_json(read_file(file), &error);
      ASSERT_TRUE(doc.has_value()) << error << "\n" << read_file(file);
      const JsonValue* m = doc->get("mode");
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(m->string, mode);
      const JsonValue* p = find_process(*doc, is_static ? "/call_entries_static" : "/call_entries");
      ASSERT_NE(p, nullptr) << read_file(file);
      EXPECT_EQ(entry_calls(*p, "gettimeofday"), 3) << read_file(file);
      EXPECT_EQ(entry_calls(*p, "time"), 0) << read_file(file);
      EXPECT_EQ(entry_calls(*p, "getcpu"), 0) << read_file(file);
    }
  }
}

// Issue 11: where the run and `vdsorun scan` disagree, the report says so. preserve_regs
// calls through a register loaded from a function argument (the scan cannot see where it
// points); glibc_sequences uses old glibc's own forms, a direct call and a tail call, which the
// scan finds.
TEST(Cli, ReportMarksCallSitesTheStaticScanMisses) {
  TempDir dir;
  struct Case {
    std::vector<std::string> cmd;
    bool missed;
  };
  const std::vector<Case> cases = {
      {{program("preserve_regs", true), "time"}, true},
      {{program("glibc_sequences", true), "gettimeofday_call"}, false},
      {{program("glibc_sequences", true), "time_tailcall"}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.cmd[0] + " " + c.cmd[1]);
    const std::string file = dir.path() + "/report.json";
    const RunResult r = run_command(under_vdsorun({"-o", file}, c.cmd));
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.err.find("does not find this site") != std::string::npos, c.missed) << r.err;
    const std::string json = read_file(file);
    EXPECT_EQ(json.find("\"scan_missed\": true") != std::string::npos, c.missed) << json;
  }
}

TEST(Cli, JsonReportFollowsForkAndExec) {
  TempDir dir;
  const std::string file = dir.path() + "/report.json";
  const RunResult r =
      run_command(under_vdsorun({"-q", "-o", file}, {program("fork_exec", true), "2"}));
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  std::string error;
  const std::optional<JsonValue> doc = parse_json(read_file(file), &error);
  ASSERT_TRUE(doc.has_value()) << error;
  // Two children each run exec_chain at depths 2, 1, 0: six images, one call of each entry.
  const JsonValue* procs = doc->get("processes");
  ASSERT_NE(procs, nullptr) << read_file(file);
  double gtod = 0, time = 0, getcpu = 0;
  for (const JsonValue& p : procs->items) {
    const JsonValue* exe = p.get("executable");
    if (exe == nullptr || exe->string.find("exec_chain") == std::string::npos) continue;
    gtod += entry_calls(p, "gettimeofday");
    time += entry_calls(p, "time");
    getcpu += entry_calls(p, "getcpu");
  }
  EXPECT_EQ(gtod, 6) << read_file(file);
  EXPECT_EQ(time, 6) << read_file(file);
  EXPECT_EQ(getcpu, 6) << read_file(file);
}

}  // namespace
}  // namespace integration
