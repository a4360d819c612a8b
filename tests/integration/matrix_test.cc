// The integration matrix: every row of matrix_rows.cc × {dynamic, static} × {direct, none,
// xonly, emulate, native}. `direct` runs the program without vdsorun and expects the host
// kernel's own mode (validating the table against the real kernel); the four mode columns run
// it under `vdsorun --vsyscall=MODE`.
#include <gtest/gtest.h>

#include <sstream>

#include "host.h"
#include "matrix_rows.h"
#include "process.h"

namespace integration {
namespace {

enum class Linkage { kDynamic, kStatic };
enum class Column { kDirect, kNone, kXonly, kEmulate, kNative };

struct MatrixCase {
  size_t row;
  Linkage linkage;
  Column column;
};

VsysMode column_mode(Column c) {
  switch (c) {
    case Column::kNone:
      return VsysMode::kNone;
    case Column::kXonly:
      return VsysMode::kXonly;
    case Column::kEmulate:
      return VsysMode::kEmulate;
    case Column::kNative:
      return VsysMode::kNative;
    case Column::kDirect:
      break;
  }
  return host_mode();
}

const char* column_name(Column c) {
  return c == Column::kDirect ? "direct" : mode_name(column_mode(c));
}

std::vector<MatrixCase> all_cases() {
  std::vector<MatrixCase> cases;
  for (size_t r = 0; r < matrix_rows().size(); ++r) {
    for (Linkage l : {Linkage::kDynamic, Linkage::kStatic}) {
      for (Column c :
           {Column::kDirect, Column::kNone, Column::kXonly, Column::kEmulate, Column::kNative}) {
        cases.push_back(MatrixCase{r, l, c});
      }
    }
  }
  return cases;
}

std::string case_name(const testing::TestParamInfo<MatrixCase>& info) {
  const MatrixCase& c = info.param;
  return matrix_rows()[c.row].name +
         (c.linkage == Linkage::kStatic ? "__static__" : "__dynamic__") + column_name(c.column);
}

void PrintTo(const MatrixCase& c, std::ostream* os) {
  *os << matrix_rows()[c.row].name << (c.linkage == Linkage::kStatic ? " static " : " dynamic ")
      << column_name(c.column);
}

// Why this case cannot be run on this host, or "".
std::string skip_reason(const Row& row, const MatrixCase& c, VsysMode host) {
  if (c.linkage == Linkage::kDynamic && !dynamic_programs_runnable()) {
    return "the dynamic tracee programs cannot run here (no loader or libraries): only the static "
           "ones can";
  }
  if (c.column == Column::kDirect) {
    if ((row.flags & kUserFaultSince69) != 0 && host != VsysMode::kNone &&
        kernel_version() < 6009) {
      return "kernels before 6.9 report a user pointer faulting inside an emulated vsyscall "
             "as SEGV_MAPERR/ACCERR at the pointer; the table holds 6.9+ semantics";
    }
    return "";
  }
  const VsysMode mode = column_mode(c.column);
  if ((row.flags & kReadsPage) != 0 && host == VsysMode::kEmulate &&
      (mode == VsysMode::kNone || mode == VsysMode::kXonly)) {
    return "documented limit: on a vsyscall=emulate host the page is readable, so a data read "
           "cannot be made to fault";
  }
  if ((row.flags & kOwnSeccompKill) != 0 && mode == VsysMode::kNone && host != VsysMode::kNone) {
    return "documented limit: the program's own seccomp KILL outranks vdsorun's "
           "SECCOMP_RET_TRAP, so the host kernel kills the program before vdsorun sees the call";
  }
  return "";
}

bool word_matches(const std::string& want, const std::string& got) {
  if (!want.empty() && want.back() == '*') {
    return got.compare(0, want.size() - 1, want, 0, want.size() - 1) == 0;
  }
  return want == got;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  std::string s;
  while (in >> s) w.push_back(s);
  return w;
}

// Whether one line of `out` holds every word of `want`.
bool has_line(const std::string& out, const std::string& want) {
  const std::vector<std::string> want_words = words(want);
  for (const std::string& line : split_lines(out)) {
    const std::vector<std::string> got = words(line);
    bool all = true;
    for (const std::string& w : want_words) {
      bool found = false;
      for (const std::string& g : got) found = found || word_matches(w, g);
      all = all && found;
    }
    if (all) return true;
  }
  return false;
}

class Matrix : public testing::TestWithParam<MatrixCase> {};

TEST_P(Matrix, MatchesKernelSemantics) {
  const MatrixCase& c = GetParam();
  const Row& row = matrix_rows()[c.row];
  const VsysMode host = host_mode();
  const std::string skip = skip_reason(row, c, host);
  if (!skip.empty()) GTEST_SKIP() << skip;

  std::vector<std::string> program;
  if ((row.flags & kScript) != 0) {
    program = {programs_dir() + "/" + row.program,
               c.linkage == Linkage::kStatic ? "static" : "dynamic"};
  } else {
    program = {programs_dir() + "/" + row.program +
               (c.linkage == Linkage::kStatic ? "_static" : "")};
  }
  program.insert(program.end(), row.args.begin(), row.args.end());

  std::vector<std::string> cmd;
  if (c.column != Column::kDirect) {
    cmd = {vdsorun_path(), std::string("--vsyscall=") + column_name(c.column), "--"};
  }
  cmd.insert(cmd.end(), program.begin(), program.end());
  const VsysMode mode = column_mode(c.column);
  const Outcome& want = row.expect[static_cast<size_t>(mode)];

  std::string cmd_text;
  for (const std::string& a : cmd) cmd_text += a + " ";
  SCOPED_TRACE("host vsyscall=" + std::string(mode_name(host)) + ", expecting the " +
               mode_name(mode) + " column; command: " + cmd_text);

  const RunResult r = run_command(cmd);
  if (r.exited && r.exit_code == 77 && has_line(r.out, "SKIP")) {
    GTEST_SKIP() << "the program skipped itself: " << r.out;
  }
  ASSERT_FALSE(r.timed_out) << r.describe();
  ASSERT_EQ(r.exec_errno, 0) << r.describe();
  if (want.killed) {
    if (c.column == Column::kDirect) {
      EXPECT_TRUE(r.signaled && r.signal == want.code)
          << "want killed by signal " << want.code << "\n"
          << r.describe();
    } else {
      EXPECT_TRUE(r.exited && r.exit_code == 128 + want.code)
          << "want exit " << 128 + want.code << " (killed by signal " << want.code << ")\n"
          << r.describe();
    }
  } else {
    EXPECT_TRUE(r.exited && r.exit_code == want.code) << "want exit " << want.code << "\n"
                                                      << r.describe();
  }
  for (const std::string& line : want.lines) {
    EXPECT_TRUE(has_line(r.out, line)) << "want a line with: " << line << "\n" << r.describe();
  }
  EXPECT_FALSE(has_line(r.out, "FAIL")) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Programs, Matrix, testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace integration
