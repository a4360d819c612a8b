// Call-site patching (--patch=auto): every legacy call form is patched after its first stop,
// counted exactly, and gives the same results as with --patch=off: values, preserved
// registers, signals for bad pointers, the program's own seccomp filter, fork, threads,
// signals delivered inside the trampoline. Program: tests/programs/call_forms.c.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "host.h"
#include "json.h"
#include "process.h"

namespace integration {
namespace {

std::string forms_program() {
  return programs_dir() + "/call_forms_static";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// vdsorun OPTIONS call_forms ARGS with the JSON report in a temporary file.
struct FormsRun {
  RunResult result;
  std::optional<JsonValue> report;
};

FormsRun run_forms(const std::vector<std::string>& options, const std::vector<std::string>& args) {
  char tmpl[] = "/tmp/vdsorun-patch-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  std::vector<std::string> argv = {vdsorun_path(), "-q", "-o", tmpl};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(forms_program());
  argv.insert(argv.end(), args.begin(), args.end());
  FormsRun r;
  r.result = run_command(argv);
  std::string error;
  r.report = parse_json(slurp(tmpl), &error);
  unlink(tmpl);
  return r;
}

// The call sites of `entry` in the first process of the report.
std::vector<const JsonValue*> sites(const FormsRun& r, const std::string& entry) {
  std::vector<const JsonValue*> out;
  if (!r.report) return out;
  const JsonValue* procs = r.report->get("processes");
  if (!procs || procs->items.empty()) return out;
  const JsonValue* e = procs->items[0].get("entries");
  const JsonValue* en = e ? e->get(entry) : nullptr;
  const JsonValue* cs = en ? en->get("call_sites") : nullptr;
  if (!cs) return out;
  for (const JsonValue& s : cs->items) out.push_back(&s);
  return out;
}

double number(const JsonValue* v, const std::string& key) {
  const JsonValue* n = v ? v->get(key) : nullptr;
  return n && n->type == JsonValue::Type::kNumber ? n->number : -1;
}

struct Form {
  const char* name;
  const char* entry;
};
const Form kForms[] = {
    {"mov_rax", "gettimeofday"}, {"mov_rbx", "time"},       {"mov_r12", "getcpu"},
    {"movabs", "gettimeofday"},  {"word", "gettimeofday"},  {"call_mem", "time"},
    {"rel32", "gettimeofday"},   {"tail_mov_rax", "time"},  {"tail_rel32", "time"},
};

class PatchForms : public testing::TestWithParam<Form> {};

TEST_P(PatchForms, PatchedAfterTheFirstStopAndCountedExactly) {
  const Form f = GetParam();
  constexpr int kCalls = 3000;
  for (const char* mode : {"xonly", "emulate", "native"}) {
    SCOPED_TRACE(std::string("--vsyscall=") + mode);
    FormsRun on = run_forms({std::string("--vsyscall=") + mode}, {"loop", f.name, std::to_string(kCalls)});
    ASSERT_TRUE(on.result.exited && on.result.exit_code == 0) << on.result.describe();
    ASSERT_TRUE(on.report) << on.result.describe();
    auto s = sites(on, f.entry);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(number(s[0], "count"), kCalls);
    const JsonValue* patch = s[0]->get("patch");
    ASSERT_TRUE(patch && patch->type == JsonValue::Type::kObject)
        << "not patched: " << (s[0]->get("not_patched") ? s[0]->get("not_patched")->string : "?");
    EXPECT_EQ(number(patch, "after_stops"), 1);
    EXPECT_EQ(number(patch, "patched_calls"), kCalls - 1);

    FormsRun off = run_forms({std::string("--vsyscall=") + mode, "--patch=off"},
                        {"loop", f.name, std::to_string(kCalls)});
    ASSERT_TRUE(off.result.exited && off.result.exit_code == 0) << off.result.describe();
    auto so = sites(off, f.entry);
    ASSERT_EQ(so.size(), 1u);
    EXPECT_EQ(number(so[0], "count"), kCalls);
    EXPECT_EQ(so[0]->get("patch")->type, JsonValue::Type::kNull);
    EXPECT_EQ(on.result.out, off.result.out);
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, PatchForms, testing::ValuesIn(kForms),
                         [](const testing::TestParamInfo<Form>& i) { return std::string(i.param.name); });

TEST(Patch, EveryRegisterButRaxAndTheFlagsArePreserved) {
  for (const char* mode : {"xonly", "emulate"}) {
    FormsRun r = run_forms({std::string("--vsyscall=") + mode}, {"regs", "2000"});
    EXPECT_TRUE(r.result.exited && r.result.exit_code == 0) << mode << ": " << r.result.describe();
    EXPECT_EQ(r.result.out, "OK regs calls=2000\n");
  }
  // native: the page's own `syscall` clobbers rcx and r11, patched or not; the same report.
  FormsRun on = run_forms({"--vsyscall=native"}, {"regs", "2000"});
  FormsRun off = run_forms({"--vsyscall=native", "--patch=off"}, {"regs", "2000"});
  EXPECT_EQ(on.result.out, off.result.out);
  EXPECT_NE(on.result.out.find("rcx=0xffffffffff600009"), std::string::npos) << on.result.out;
}

// The SIGNAL line of tracee.h without err= and trapno=: after a user pointer faults in the
// trampoline, those name that fault (a documented limit, man page "PATCHED CALL SITES").
std::string without_err_trapno(const std::string& s) {
  return std::regex_replace(s, std::regex(" err=0x[0-9a-f]+| trapno=[0-9]+"), "");
}

TEST(Patch, BadPointersAtAPatchedSiteGetTheKernelsSignal) {
  for (const char* c : {"gtod_kernel_tv", "gtod_kernel_tz", "gtod_unmapped", "gtod_readonly",
                        "time_kernel", "time_readonly", "getcpu_unmapped", "getcpu_kernel_node"}) {
    for (const char* mode : {"xonly", "emulate", "native"}) {
      SCOPED_TRACE(std::string(c) + " --vsyscall=" + mode);
      FormsRun on = run_forms({std::string("--vsyscall=") + mode}, {"bad", c});
      FormsRun off = run_forms({std::string("--vsyscall=") + mode, "--patch=off"}, {"bad", c});
      EXPECT_EQ(on.result.status_text(), off.result.status_text());
      const bool kernel_pointer = std::string(c).find("kernel") != std::string::npos;
      if (kernel_pointer || std::string(mode) == "native")
        EXPECT_EQ(on.result.out, off.result.out);  // all of it, err and trapno too
      else
        EXPECT_EQ(without_err_trapno(on.result.out), without_err_trapno(off.result.out));
      EXPECT_FALSE(on.result.out.empty());
    }
  }
}

TEST(Patch, AProgramsOwnSeccompFilterAppliesAfterItInstallsIt) {
  // Natively (the host kernel emulates the call) the filter's ERRNO is the call's result.
  RunResult native = run_command({forms_program(), "seccomp"});
  ASSERT_EQ(native.out, "RETURNED rax=-1\n") << native.describe();
  for (const char* mode : {"xonly", "emulate", "native"}) {
    FormsRun r = run_forms({std::string("--vsyscall=") + mode}, {"seccomp"});
    EXPECT_EQ(r.result.out, "RETURNED rax=-1\n") << mode << ": " << r.result.describe();
  }
}

TEST(Patch, ForkThreadsAndSignalsKeepTheCountExact) {
  // Parent and child call the same patched site at the same time: their counter is shared.
  FormsRun f = run_forms({}, {"fork", "200000"});
  ASSERT_EQ(f.result.out, "OK fork calls=600000\n") << f.result.describe();
  auto fs = sites(f, "gettimeofday");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(number(fs[0], "count"), 600000);

  FormsRun t = run_forms({}, {"threads", "4", "50000"});
  ASSERT_EQ(t.result.out, "OK threads calls=200001\n") << t.result.describe();
  auto ts = sites(t, "gettimeofday");
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(number(ts[0], "count"), 200001);

  FormsRun s = run_forms({}, {"signals", "100000"});
  ASSERT_EQ(s.result.out, "OK signals calls=200000\n") << s.result.describe();
  auto g = sites(s, "gettimeofday");
  auto tm = sites(s, "time");
  ASSERT_EQ(g.size(), 1u);
  ASSERT_EQ(tm.size(), 1u);
  EXPECT_EQ(number(g[0], "count"), 100000);
  EXPECT_EQ(number(tm[0], "count"), 100000);
}

TEST(Patch, AThousandThreadsHammerTwoSitesWhileTheyArePatched) {
  FormsRun h = run_forms({}, {"hammer", "1000", "100"});
  ASSERT_EQ(h.result.out, "OK hammer calls=200000\n") << h.result.describe();
  for (const char* entry : {"gettimeofday", "time"}) {
    SCOPED_TRACE(entry);
    auto s = sites(h, entry);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(number(s[0], "count"), 100000);  // stops and patched calls: none lost
    const JsonValue* patch = s[0]->get("patch");
    ASSERT_TRUE(patch && patch->type == JsonValue::Type::kObject);
    EXPECT_GT(number(patch, "patched_calls"), 0);
  }
}

TEST(Patch, TheFileOnDiskIsNeverWritten) {
  const std::string before = slurp(forms_program());
  ASSERT_FALSE(before.empty());
  FormsRun r = run_forms({}, {"loop", "rel32", "100"});
  ASSERT_EQ(r.result.out, "OK loop rel32 calls=100\n");
  EXPECT_TRUE(before == slurp(forms_program()));
  // And a second copy running at the same time as a patched one still has the original code:
  // it makes its own first stop.
  FormsRun again = run_forms({}, {"loop", "rel32", "100"});
  auto s = sites(again, "gettimeofday");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(number(s[0]->get("patch"), "after_stops"), 1);
}

TEST(Patch, NeverInModeNoneAndOffMeansEveryCallStops) {
  FormsRun none = run_forms({"--vsyscall=none"}, {"-n", "loop", "mov_rax", "10"});
  // vdsorun exits 128 + N for a program killed by signal N.
  EXPECT_TRUE(none.result.exited && none.result.exit_code == 128 + SIGSEGV) << none.result.describe();
  auto s = sites(none, "gettimeofday");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]->get("patch")->type, JsonValue::Type::kNull);

  RunResult bad = run_command({vdsorun_path(), "--patch=sometimes", "/bin/true"});
  EXPECT_TRUE(bad.exited && bad.exit_code == 125) << bad.describe();
  EXPECT_NE(bad.err.find("vdsorun: invalid --patch value 'sometimes'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace integration
