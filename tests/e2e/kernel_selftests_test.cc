// The kernel's own vDSO selftests (tools/testing/selftests/vDSO of Debian's linux-source-6.1),
// extracted and built at test time into the build tree — never committed — and run natively
// and under vdsorun with the injected vDSO. Several of them parse the vDSO at
// getauxval(AT_SYSINFO_EHDR) themselves, so under vdsorun they parse vdsorun's.
#include <gtest/gtest.h>

#include <fstream>

#include "e2e_support.h"

namespace e2e {
namespace {

const char kTarball[] = "/usr/src/linux-source-6.1.tar.xz";
const char kTop[] = "linux-source-6.1";

struct Selftest {
  const char* name;
  std::vector<std::string> sources;  // relative to tools/testing/selftests/vDSO
  std::vector<std::string> flags;    // as the directory's Makefile gives them
};

const Selftest kSelftests[] = {
    {"vdso_test_abi", {"vdso_test_abi.c", "parse_vdso.c"}, {}},
    {"vdso_test_gettimeofday", {"vdso_test_gettimeofday.c", "parse_vdso.c"}, {}},
    {"vdso_test_getcpu", {"vdso_test_getcpu.c", "parse_vdso.c"}, {}},
    {"vdso_test_clock_getres", {"vdso_test_clock_getres.c"}, {}},
    {"vdso_test_correctness", {"vdso_test_correctness.c"}, {"-ldl"}},
    // 6.1's _start calls into C with the stack 8 bytes off the ABI's alignment: realign it.
    {"vdso_standalone_test_x86",
     {"vdso_standalone_test_x86.c", "parse_vdso.c"},
     {"-nostdlib", "-fno-asynchronous-unwind-tables", "-fno-stack-protector", "-mstackrealign"}},
};

// Extracts the vDSO selftests (and the one header they share) once, then builds every test;
// returns the directory of the binaries, or "" with *why_not set.
std::string build_selftests(std::string* why_not) {
  if (auto why = ensure_package("linux-source-6.1", [] { return file_exists(kTarball); })) {
    *why_not = std::string(kTarball) + " is missing and could not be installed: " + *why;
    return "";
  }
  const std::string work = work_dir();
  const std::string src_root = work + "/kselftest-src";
  const std::string vdso_dir = src_root + "/" + kTop + "/tools/testing/selftests/vDSO";
  const std::string stamp = src_root + "/.extracted";
  const std::string bin = work + "/kselftest-bin";
  WorkLock lock("kselftest");
  if (!file_exists(stamp)) {
    integration::RunOptions extract_opts;
    extract_opts.timeout_seconds = 600;
    // xz streams cannot seek: this reads the whole tarball once (~25 s), then never again.
    auto r = integration::run_command(
        {"sh", "-c",
         "rm -rf '" + src_root + "' && mkdir -p '" + src_root + "' && tar -xJf '" + kTarball +
             "' -C '" + src_root + "' --wildcards '" + kTop + "/tools/testing/selftests/vDSO/*' '" +
             kTop + "/tools/testing/selftests/kselftest.h' && touch '" + stamp + "'"},
        extract_opts);
    if (!r.exited || r.exit_code != 0) {
      *why_not = std::string("extracting the vDSO selftests from ") + kTarball +
                 " failed: " + r.describe();
      return "";
    }
  }
  integration::run_command({"mkdir", "-p", bin});
  for (const Selftest& t : kSelftests) {
    std::vector<std::string> cmd = {"gcc", "-std=gnu99", "-o", bin + "/" + t.name};
    for (const auto& s : t.sources) cmd.push_back(s);
    for (const auto& f : t.flags) cmd.push_back(f);
    integration::RunOptions opts;
    opts.cwd = vdso_dir;
    auto r = integration::run_command(cmd, opts);
    if (!r.exited || r.exit_code != 0) {
      *why_not = std::string("building ") + t.name + " failed: " + r.describe();
      return "";
    }
  }
  return bin;
}

// vdso_test_correctness's verdicts, one per `[RUN]` block.
struct Verdict {
  std::string run_line;
  std::string values;  // "start vdso end" when printed
  std::string result;  // the [OK] / [FAIL] / [SKIP] line
};

std::vector<Verdict> verdicts(const std::string& out) {
  std::vector<Verdict> v;
  for (const std::string& line : integration::split_lines(out)) {
    if (line.rfind("[RUN]", 0) == 0) {
      v.push_back({line, "", ""});
    } else if (!v.empty() && line.rfind("\t", 0) == 0 && v.back().result.empty()) {
      v.back().values = line.substr(1);
    } else if (line.rfind("[", 0) == 0) {
      if (v.empty() || !v.back().result.empty()) v.push_back({"", "", ""});
      v.back().result = line;
    }
  }
  return v;
}

bool failed(const std::string& result) {
  return result.rfind("[FAIL]", 0) == 0;
}

// A coarse clock's check failing because vdsorun's copy of the kernel's coarse clock still
// held the previous tick (see coarse_test.cc): the vDSO value lies below the first syscall's.
bool is_coarse_lag(const Verdict& v) {
  if (v.run_line.find("_COARSE") == std::string::npos) return false;
  if (v.result.find("out of sequence") == std::string::npos) return false;
  double start = 0, vdso = 0, end = 0;
  if (std::sscanf(v.values.c_str(), "%lf %lf %lf", &start, &vdso, &end) != 3) return false;
  return vdso < start;
}

struct Case {
  const Selftest* test;
  bool under_vdsorun;
};

class KernelSelftest : public testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { bin_ = build_selftests(&why_not_); }
  static std::string bin_;
  static std::string why_not_;
};
std::string KernelSelftest::bin_;
std::string KernelSelftest::why_not_;

TEST_P(KernelSelftest, Passes) {
  ASSERT_FALSE(bin_.empty()) << why_not_;
  const Case& c = GetParam();
  const std::string path = bin_ + "/" + c.test->name;
  RunSpec spec;
  spec.vdso = c.under_vdsorun ? Vdso::kInject : Vdso::kDirect;
  // On the injected fast path, not the syscall fallback of the first milliseconds.
  spec.after_fast_path = c.under_vdsorun;
  const Outcome r = run({path}, spec);
  std::printf("%s\n%s", r.command.c_str(), r.result.out.c_str());
  ASSERT_TRUE(r.result.exited) << r.result.describe();

  if (c.under_vdsorun) {
    ASSERT_TRUE(r.report.has_value()) << "no vdsorun report";
    // The test's own image (after after_fast_path exec'd it) got vdsorun's vDSO.
    const integration::JsonValue* processes = r.report->get("processes");
    ASSERT_NE(processes, nullptr);
    bool seen = false;
    for (const auto& p : processes->items) {
      const auto* exe = p.get("executable");
      const auto* note = p.get("vdso_mapping");
      if (exe == nullptr || note == nullptr || exe->string != path) continue;
      seen = true;
      EXPECT_EQ(note->string.rfind("vdsorun vDSO at ", 0), 0u) << note->string;
    }
    EXPECT_TRUE(seen) << "the report names no process running " << path;
  }

  std::vector<std::string> lag;
  for (const Verdict& v : verdicts(r.result.out)) {
    if (!failed(v.result)) continue;
    if (c.under_vdsorun && is_coarse_lag(v)) {
      lag.push_back(v.run_line + " " + v.values + " " + v.result);
      continue;
    }
    ADD_FAILURE() << v.run_line << "\n" << v.values << "\n" << v.result;
  }
  // Verdicts printed mid-line: clock_getres's "clock_id: X [FAIL]", abi's "f(): X FAIL".
  for (const std::string& line : integration::split_lines(r.result.out)) {
    if (line.rfind("[", 0) != 0) {
      EXPECT_EQ(line.find("FAIL"), std::string::npos) << line;
    }
    EXPECT_NE(line.rfind("not ok", 0), 0u) << line;
    EXPECT_EQ(line.find("Bail out"), std::string::npos) << line;
  }
  // vdso_test_correctness exits 1 when any check failed.
  if (lag.empty()) {
    EXPECT_EQ(r.result.exit_code, 0) << r.result.describe();
    return;
  }
  EXPECT_EQ(r.result.exit_code, 1) << r.result.describe();
  std::string all;
  for (const auto& l : lag) all += l + "; ";
  const char* strict = getenv("VDSORUN_E2E_STRICT_COARSE");
  if (strict != nullptr && std::string(strict) == "1") {
    ADD_FAILURE() << "coarse clocks behind the kernel's: " << all;
  } else {
    GTEST_SKIP() << "every check passed except the known coarse-clock lag (coarse_test.cc): " << all
                 << "set VDSORUN_E2E_STRICT_COARSE=1 to fail on it";
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const Selftest& t : kSelftests) {
    cases.push_back({&t, false});
    cases.push_back({&t, true});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(VdsoSelftests, KernelSelftest, testing::ValuesIn(all_cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.test->name) +
                                  (info.param.under_vdsorun ? "__vdsorun" : "__native");
                         });

}  // namespace
}  // namespace e2e
