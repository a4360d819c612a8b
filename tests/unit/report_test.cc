// Tests report collection and its text and JSON forms.
#include "emulator/report/report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace emulator {

TEST(Report, EmptyUntilSomethingIsRecorded) {
  Report r;
  r.new_image(10, "/bin/x", "host vDSO");
  EXPECT_TRUE(r.empty());
  ++r.image(10).entries[vsyscall::Entry::kTime].calls;
  EXPECT_FALSE(r.empty());
}

TEST(Report, JsonCarriesCountsSitesAndEscapes) {
  Report r;
  r.set_run_info("emulate", "xonly", "inject");
  r.new_image(42, "/tmp/we\"ird\\name", "injected");
  auto& e = r.image(42).entries[vsyscall::Entry::kGettimeofday];
  e.calls = 3;
  auto& s = e.call_sites[0x401234];
  s.count = 3;
  s.site.address = 0x401234;
  s.site.module = "/tmp/x";
  s.site.instruction = "call rax";
  s.outcomes[Outcome::kEmulated] = 3;
  r.set_exit("exited with status 0");
  std::ostringstream j;
  r.write_json(j);
  const std::string out = j.str();
  EXPECT_NE(out.find("\"gettimeofday\": {\"address\": \"0xffffffffff600000\", \"calls\": 3"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"return_address\": \"0x401234\""), std::string::npos);
  EXPECT_NE(out.find("\"emulated\": 3"), std::string::npos);
  EXPECT_NE(out.find("we\\\"ird\\\\name"), std::string::npos);
  std::ostringstream t;
  r.write_text(t);
  EXPECT_NE(t.str().find("gettimeofday: 3 calls"), std::string::npos) << t.str();
  EXPECT_NE(t.str().find("`call rax`: 3 emulated"), std::string::npos) << t.str();
}

TEST(Report, OutcomesAreWrittenInTheReportsWords) {
  Report r;
  r.new_image(7, "/x", "");
  auto& s = r.image(7).read_sites[0x401000];
  s.count = 2;
  s.outcomes[Outcome::kReadOnCopy] = 1;
  s.outcomes[Outcome::kReadNotEmulated] = 1;
  s.reason = "a gather";
  r.image(7).reads = 2;
  std::ostringstream t;
  r.write_text(t);
  EXPECT_NE(t.str().find("1 read-emulated (executed on a copy) 1 SIGSEGV (not emulated: a gather)"),
            std::string::npos)
      << t.str();
  EXPECT_EQ(outcome_name(Outcome::kSigsegv), "SIGSEGV");
  EXPECT_EQ(outcome_name(Outcome::kNative), "native");
}

TEST(Report, ForkedImagesAreSeparate) {
  Report r;
  r.new_image(1, "/a", "");
  ++r.image(1).reads;
  r.new_image(1, "/b", "");  // exec: a new image for the same pid
  EXPECT_EQ(r.image(1).executable, "/b");
  EXPECT_EQ(r.image(1).reads, 0u);
}

}  // namespace emulator
