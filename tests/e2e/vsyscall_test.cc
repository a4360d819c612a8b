// The emulated vsyscall page and the injected vDSO tell the same time: for ~2 s a program
// alternates vDSO clock_gettime(REALTIME) with the gettimeofday entry and vDSO time() with the
// time entry, and every vsyscall answer lies between the vDSO answers around it.
#include <gtest/gtest.h>

#include "e2e_support.h"

namespace e2e {
namespace {

class VsyscallAgreement : public testing::TestWithParam<const char*> {};

TEST_P(VsyscallAgreement, WithTheInjectedVdso) {
  RunSpec spec;
  spec.vdso = Vdso::kInject;
  spec.extra_options = {std::string("--vsyscall=") + GetParam()};
  const Outcome r = run({program("vsys_agree"), "2"}, spec);
  ASSERT_TRUE(r.result.exited && r.result.exit_code == 0) << r.command << "\n"
                                                          << r.result.describe();
  const auto records = parse_records(r.result.out);
  const Record* vdso = find_record(records, "vdso");
  ASSERT_NE(vdso, nullptr) << r.result.out;
  EXPECT_TRUE(is_injected_vdso(vdso->at("clock_gettime_mapping"))) << vdso->line;
  const Record* fast = find_record(records, "fast_path");
  ASSERT_NE(fast, nullptr);
  if (fast->at("after_ms") == "never") {
    if (auto why = fast_path_impossible_reason()) GTEST_SKIP() << "no injected fast path: " << *why;
    ADD_FAILURE() << "the injected vDSO never served the clocks without a syscall";
  }

  for (const char* kind : {"gettimeofday_violation", "time_violation"}) {
    for (const Record& v : records_of(records, kind)) ADD_FAILURE() << v.line;
  }
  const Record* gtod = find_record(records, "gettimeofday", "samples");
  const Record* time = find_record(records, "time", "samples");
  ASSERT_NE(gtod, nullptr) << r.result.out;
  ASSERT_NE(time, nullptr) << r.result.out;
  EXPECT_GT(gtod->num("samples"), 0) << gtod->line;
  EXPECT_EQ(gtod->num("violations"), 0) << gtod->line;
  EXPECT_GT(time->num("samples"), 0) << time->line;
  EXPECT_EQ(time->num("violations"), 0) << time->line;
  std::printf("%s\n%s\n", gtod->line.c_str(), time->line.c_str());
}

INSTANTIATE_TEST_SUITE_P(Modes, VsyscallAgreement, testing::Values("emulate", "xonly"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace e2e
