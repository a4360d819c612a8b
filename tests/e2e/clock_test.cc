// glibc (dynamic and static), musl (static) and C++ std::chrono programs under vdsorun with
// --vdso=inject, host and none, and without vdsorun: each gets correct time (against a bracket
// of raw syscalls) from the vDSO it should have — vdsorun's memfd image, the kernel's [vdso],
// or none at all — and libc really calls it (it keeps working with the time syscalls denied).
#include <gtest/gtest.h>

#include "clock_checks.h"
#include "e2e_support.h"

namespace e2e {
namespace {

enum class Lang { kC, kCxx };

struct Probe {
  const char* name;
  Lang lang;
  const char* libc;
  std::string (*path)(std::string* why_not);
};

std::string built(const char* name, std::string*) {
  return program(name);
}

// musl-gcc, when meson found it, built the probe; otherwise install musl-tools and build it here.
std::string musl_probe(std::string* why_not) {
  const char* built_path = getenv("E2E_MUSL_PROBE");
  if (built_path != nullptr && *built_path != '\0' && file_exists(built_path)) return built_path;
  return build_with_musl("clock_probe.c", "clock_probe_musl", why_not);
}

const Probe kProbes[] = {
    {"glibc_dynamic", Lang::kC, "glibc", [](std::string* w) { return built("clock_probe", w); }},
    {"glibc_static", Lang::kC, "glibc",
     [](std::string* w) { return built("clock_probe_static", w); }},
    {"musl_static", Lang::kC, "musl", musl_probe},
    {"cxx_chrono", Lang::kCxx, "glibc", [](std::string* w) { return built("chrono_probe", w); }},
};

struct Case {
  const Probe* probe;
  Vdso vdso;
};

class ClockProbe : public testing::TestWithParam<Case> {};

TEST_P(ClockProbe, GetsCorrectTimeFromTheVdsoItWasGiven) {
  const Case& c = GetParam();
  std::string why_not;
  const std::string path = c.probe->path(&why_not);
  ASSERT_FALSE(path.empty()) << why_not;

  // The C probes exit with the status asked for, to see it come back through vdsorun.
  std::vector<std::string> argv = {path};
  int expected_exit = 0;
  if (c.probe->lang == Lang::kC) {
    argv.insert(argv.end(), {"--exit", "3"});
    expected_exit = 3;
  }
  RunSpec spec;
  spec.vdso = c.vdso;
  const Outcome r = run(argv, spec);
  ASSERT_TRUE(r.result.exited && r.result.exit_code == expected_exit) << r.command << "\n"
                                                                      << r.result.describe();
  const auto records = parse_records(r.result.out);
  ASSERT_NE(find_record(records, "done"), nullptr) << r.result.out;
  if (c.probe->lang == Lang::kC) {
    const Record* probe = find_record(records, "probe");
    ASSERT_NE(probe, nullptr);
    EXPECT_EQ(probe->at("libc"), c.probe->libc);
    EXPECT_EQ(probe->at("bits"), "64");
  }

  const std::vector<std::string> symbols =
      c.probe->lang == Lang::kC ? kCVdsoSymbols : std::vector<std::string>{"__vdso_clock_gettime"};
  const Expect expect = expect_for(c.vdso);
  check_vdso_identity(records, expect, symbols);
  if (IsSkipped()) return;
  if (c.vdso != Vdso::kDirect) check_report_notes(r, report_prefix(c.vdso));
  // glibc's loader registers the vDSO it was handed as a link map, static or dynamic.
  if (c.probe->lang == Lang::kC && std::string(c.probe->libc) == "glibc") {
    const Record* loader = find_record(records, "loader_vdso");
    ASSERT_NE(loader, nullptr);
    if (expect == Expect::kInjected) {
      EXPECT_TRUE(is_injected_vdso(loader->at("mapping"))) << loader->line;
    }
    if (expect == Expect::kKernel) {
      EXPECT_TRUE(is_kernel_vdso(loader->at("mapping"))) << loader->line;
    }
    if (expect == Expect::kNone) {
      EXPECT_EQ(loader->at("mapping"), "none") << loader->line;
    }
  }

  check_brackets(records);
  if (c.probe->lang == Lang::kC) {
    check_getres_and_getcpu(records);
    // What libc serves from a vDSO: musl asks the kernel for clock_getres.
    std::vector<std::string> served = {"clock_gettime_realtime", "clock_gettime_monotonic",
                                       "gettimeofday", "time", "sched_getcpu"};
    if (std::string(c.probe->libc) == "glibc") served.push_back("clock_getres");
    check_without_syscalls(records, expect, served, "clock_gettime_realtime");
  } else {
    check_without_syscalls(records, expect, {"system_clock", "steady_clock"}, "system_clock");
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const Probe& p : kProbes) {
    for (Vdso v : {Vdso::kInject, Vdso::kHost, Vdso::kNone, Vdso::kDirect})
      cases.push_back({&p, v});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Programs, ClockProbe, testing::ValuesIn(all_cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.probe->name) + "__" +
                                  vdso_name(info.param.vdso);
                         });

}  // namespace
}  // namespace e2e
