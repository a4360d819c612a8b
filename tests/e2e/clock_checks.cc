// The clock probes' shared checks.
#include "clock_checks.h"

#include <gtest/gtest.h>
#include <sys/auxv.h>

#include <set>

namespace e2e {
namespace {

bool kernel_has_vdso() {
  return getauxval(AT_SYSINFO_EHDR) != 0;
}

bool is_coarse(const std::string& clock) {
  static const std::set<std::string> kCoarse = {"REALTIME_COARSE", "MONOTONIC_COARSE", "time"};
  return kCoarse.count(clock) != 0;
}

}  // namespace

const std::vector<std::string> kCVdsoSymbols = {"__vdso_clock_gettime", "__vdso_gettimeofday",
                                                "__vdso_time", "__vdso_getcpu",
                                                "__vdso_clock_getres"};

Expect expect_for(Vdso v) {
  switch (v) {
    case Vdso::kInject:
      return Expect::kInjected;
    case Vdso::kNone:
      return Expect::kNone;
    case Vdso::kHost:
    case Vdso::kDirect:
      return Expect::kKernel;
  }
  return Expect::kKernel;
}

void check_vdso_identity(const std::vector<Record>& records, Expect expect,
                         const std::vector<std::string>& symbols) {
  if (const Record* auxv = find_record(records, "auxv")) {
    const std::string& m = auxv->at("mapping");
    switch (expect) {
      case Expect::kInjected:
        EXPECT_TRUE(is_injected_vdso(m)) << auxv->line;
        break;
      case Expect::kKernel:
        EXPECT_TRUE(is_kernel_vdso(m)) << auxv->line;
        break;
      case Expect::kNone:
        EXPECT_EQ(auxv->at("sysinfo_ehdr"), "0") << auxv->line;
        break;
    }
  }
  for (const std::string& name : symbols) {
    const Record* s = find_record(records, "vdso_symbol", "name", name);
    if (expect == Expect::kNone) {
      if (s != nullptr) {
        EXPECT_EQ(s->at("mapping"), "none") << s->line;
      }
      continue;
    }
    ASSERT_NE(s, nullptr) << "no vdso_symbol line for " << name;
    EXPECT_NE(s->num("addr"), 0) << s->line;
    if (expect == Expect::kInjected) {
      // time() is the kernel's own: the injector links `time` and `__vdso_time` straight to
      // the kernel vDSO's function (vdso/host_table.h), so they cost nothing extra.
      const bool kernel_time = (name == "time" || name == "__vdso_time") && kernel_has_vdso();
      EXPECT_TRUE(kernel_time ? is_kernel_vdso(s->at("mapping"))
                              : is_injected_vdso(s->at("mapping")))
          << s->line;
    }
    if (expect == Expect::kKernel) {
      EXPECT_TRUE(is_kernel_vdso(s->at("mapping"))) << s->line;
    }
  }
  const Record* maps = find_record(records, "mappings");
  ASSERT_NE(maps, nullptr);
  const int64_t ours = expect == Expect::kInjected ? 1 : 0;
  EXPECT_EQ(maps->num("vdsorun_vdso"), ours) << maps->line;
  EXPECT_EQ(maps->num("vdsorun_vvar"), ours) << maps->line;

  if (expect == Expect::kInjected) {
    const Record* fast = find_record(records, "fast_path");
    if (fast != nullptr && fast->at("after_ms") == "never") {
      if (auto why = fast_path_impossible_reason()) {
        GTEST_SKIP() << "vdsorun's vDSO stays on its syscall fallback on this host: " << *why;
      }
      ADD_FAILURE() << "the injected vDSO never served the clocks without a syscall (3 s), "
                       "although the host has an invariant TSC and the tsc clocksource";
    }
  }
}

std::string report_prefix(Vdso v) {
  switch (v) {
    case Vdso::kInject:
      return "vdsorun vDSO at ";
    case Vdso::kHost:
      return "host vDSO";
    case Vdso::kNone:
      return "AT_SYSINFO_EHDR removed";
    case Vdso::kDirect:
      return "";
  }
  return "";
}

void check_report_notes(const Outcome& run, const std::string& prefix) {
  ASSERT_TRUE(run.report.has_value()) << "no readable vdsorun report for " << run.command;
  const auto notes = report_vdso_notes(*run.report);
  ASSERT_FALSE(notes.empty()) << run.command;
  for (const auto& n : notes) EXPECT_EQ(n.rfind(prefix, 0), 0u) << "report note: " << n;
}

void check_brackets(const std::vector<Record>& records) {
  const auto brackets = records_of(records, "bracket");
  ASSERT_FALSE(brackets.empty());
  for (const Record& b : brackets) {
    EXPECT_EQ(b.num("failures"), 0) << b.line;
    const std::string& clock = b.at("clock");
    if (!is_coarse(clock)) {
      EXPECT_LE(b.num("behind_ns"), kFineToleranceNs) << b.line;
      EXPECT_LE(b.num("ahead_ns"), kFineToleranceNs) << b.line;
      continue;
    }
    // A coarse value (and time()) is the kernel's own, through its vDSO or its syscall,
    // whatever vDSO the program was given: never behind, never ahead.
    EXPECT_LE(b.num("ahead_ns"), 0) << b.line;
    EXPECT_LE(b.num("behind_ns"), 0) << b.line;
  }
}

void check_getres_and_getcpu(const std::vector<Record>& records) {
  const auto getres = records_of(records, "getres");
  ASSERT_FALSE(getres.empty());
  for (const Record& g : getres) {
    EXPECT_GT(g.num("syscall"), 0) << g.line;
    EXPECT_EQ(g.num("libc"), g.num("syscall")) << g.line;
    if (g.num("vdso") != -1) {
      EXPECT_EQ(g.num("vdso"), g.num("syscall")) << g.line;
    }
  }
  const auto getcpu = records_of(records, "getcpu");
  ASSERT_FALSE(getcpu.empty()) << "the probe could pin itself to no CPU";
  for (const Record& g : getcpu) {
    EXPECT_EQ(g.num("syscall"), g.num("pinned")) << g.line;
    EXPECT_EQ(g.num("libc"), g.num("pinned")) << g.line;
    if (g.num("vdso") != -1) {
      EXPECT_EQ(g.num("vdso"), g.num("pinned")) << g.line;
    }
  }
}

void check_without_syscalls(const std::vector<Record>& records, Expect expect,
                            const std::vector<std::string>& served, const std::string& witness) {
  const Record* error = find_record(records, "nosyscall_error");
  ASSERT_EQ(error, nullptr) << error->line;
  // The filter itself works: a raw clock_gettime is refused.
  if (const Record* raw = find_record(records, "nosyscall", "call", "raw_clock_gettime")) {
    EXPECT_EQ(raw->at("result"), "EPERM") << raw->line;
  }
  if (expect == Expect::kNone) {
    const Record* w = find_record(records, "nosyscall", "call", witness);
    ASSERT_NE(w, nullptr) << "no nosyscall line for " << witness;
    EXPECT_NE(w->at("result"), "ok")
        << "without a vDSO this call can only be a syscall: " << w->line;
    return;
  }
  for (const std::string& call : served) {
    const Record* n = find_record(records, "nosyscall", "call", call);
    ASSERT_NE(n, nullptr) << "no nosyscall line for " << call;
    EXPECT_EQ(n->at("result"), "ok") << "served by a syscall, not by the vDSO: " << n->line;
  }
}

}  // namespace e2e
