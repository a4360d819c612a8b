// A static Go program (CGO_ENABLED=0), built at test time with the Debian Go toolchain, under
// vdsorun: Go's runtime parses the vDSO itself, so the address it resolved for
// __vdso_clock_gettime must lie in the mapping the program was handed, time.Now and the
// runtime's monotonic clock must agree with the kernel, and time.Now must keep working with
// the time syscalls denied.
#include <gtest/gtest.h>

#include "clock_checks.h"
#include "e2e_support.h"

namespace e2e {
namespace {

std::string go_binary_or_error(std::string* why_not) {
  return build_go("go_probe", "go_probe", why_not);
}

class GoProbe : public testing::TestWithParam<Vdso> {
 protected:
  static void SetUpTestSuite() { binary_ = go_binary_or_error(&why_not_); }
  static std::string binary_;
  static std::string why_not_;
};
std::string GoProbe::binary_;
std::string GoProbe::why_not_;

TEST_P(GoProbe, GetsCorrectTimeFromTheVdsoItWasGiven) {
  ASSERT_FALSE(binary_.empty()) << why_not_;
  RunSpec spec;
  spec.vdso = GetParam();
  spec.after_fast_path = true;
  const Outcome r = run({binary_}, spec);
  ASSERT_TRUE(r.result.exited && r.result.exit_code == 0) << r.command << "\n"
                                                          << r.result.describe();
  // after_fast_path reports on stderr, the probe on stdout.
  const auto records = parse_records(r.result.out + r.result.err);
  ASSERT_NE(find_record(records, "done"), nullptr) << r.result.describe();
  ASSERT_NE(find_record(records, "probe", "lang", "go"), nullptr) << r.result.describe();

  const Expect expect = expect_for(GetParam());
  check_vdso_identity(records, expect, {"runtime.vdsoClockgettimeSym"});
  if (IsSkipped()) return;
  if (GetParam() != Vdso::kDirect) check_report_notes(r, report_prefix(GetParam()));
  check_brackets(records);
  check_without_syscalls(records, expect, {"time_now"}, "time_now");
}

INSTANTIATE_TEST_SUITE_P(Static, GoProbe,
                         testing::Values(Vdso::kInject, Vdso::kHost, Vdso::kNone, Vdso::kDirect),
                         [](const testing::TestParamInfo<Vdso>& info) {
                           return std::string(vdso_name(info.param));
                         });

}  // namespace
}  // namespace e2e
