// The values of --time, --offset, --rate and --freeze, and which combinations are refused.
#include "src/time_options.h"

#include <gtest/gtest.h>

#include "src/options.h"

namespace cli {
namespace {

constexpr int64_t kNs = 1000000000;

std::optional<int64_t> instant(const std::string& s) {
  std::string error;
  auto v = parse_instant(s, error);
  if (!v) {
    EXPECT_FALSE(error.empty()) << s;
  }
  return v;
}

std::optional<int64_t> duration(const std::string& s) {
  std::string error;
  auto v = parse_duration(s, error);
  if (!v) {
    EXPECT_FALSE(error.empty()) << s;
  }
  return v;
}

TEST(TimeOptions, Instants) {
  EXPECT_EQ(instant("2038-01-19T03:13:57Z"), 2147483637 * kNs);
  EXPECT_EQ(instant("2038-01-19t03:13:57z"), 2147483637 * kNs);
  EXPECT_EQ(instant("2038-01-19 03:13:57Z"), 2147483637 * kNs);
  EXPECT_EQ(instant("2038-01-19T04:13:57+01:00"), 2147483637 * kNs);
  EXPECT_EQ(instant("2038-01-19T04:13:57+0100"), 2147483637 * kNs);
  EXPECT_EQ(instant("2038-01-18T22:13:57-05"), 2147483637 * kNs);
  EXPECT_EQ(instant("2038-01-19T03:13Z"), 2147483580 * kNs);
  EXPECT_EQ(instant("2038-01-19T03:13:57.25Z"), 2147483637 * kNs + 250000000);
  EXPECT_EQ(instant("2038-01-19"), 2147472000 * kNs);
  EXPECT_EQ(instant("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(instant("2000-02-29T00:00:00Z"), 951782400 * kNs);
  EXPECT_EQ(instant("@0"), 0);
  EXPECT_EQ(instant("@2147483647"), 2147483647 * kNs);
  EXPECT_EQ(instant("@1.5"), kNs + kNs / 2);
  for (const char* bad : {"", "@", "@-1", "@1e9", "2038-01-19T03:13:57", "2038-01-19T03:13:57+",
                          "2038-13-01T00:00:00Z", "2038-02-30T00:00:00Z", "2038-01-19T24:00:00Z",
                          "1969-12-31T23:59:59Z", "2263-01-01T00:00:00Z", "tomorrow",
                          "2038-01-19T03:13:57Zjunk", "2038-01-19T03:13:57.1234567891Z",
                          "@99999999999999999999", "2038-01-19T03:13:57+25:00"}) {
    EXPECT_FALSE(instant(bad).has_value()) << bad;
  }
  std::string error;
  parse_instant("2038-01-19T03:13:57", error);
  EXPECT_NE(error.find("no zone"), std::string::npos) << error;
}

TEST(TimeOptions, Durations) {
  EXPECT_EQ(duration("+10y"), 10 * 365 * 86400 * kNs);
  EXPECT_EQ(duration("-36h"), -36 * 3600 * kNs);
  EXPECT_EQ(duration("+1d2h"), (86400 + 7200) * kNs);
  EXPECT_EQ(duration("90"), 90 * kNs);
  EXPECT_EQ(duration("1.5h"), 5400 * kNs);
  EXPECT_EQ(duration("2w"), 14 * 86400 * kNs);
  EXPECT_EQ(duration("1m30s"), 90 * kNs);
  EXPECT_EQ(duration("250ms"), kNs / 4);
  EXPECT_EQ(duration("-3us"), -3000);
  EXPECT_EQ(duration("7ns"), 7);
  for (const char* bad : {"", "+", "-", "10x", "h", "1..5h", "1h-2m", "10 y", "300y", "1e3s", "."}) {
    EXPECT_FALSE(duration(bad).has_value()) << bad;
  }
}

TEST(TimeOptions, Rates) {
  std::string error;
  EXPECT_EQ(parse_rate("10", 1000, error), 10.0);
  EXPECT_EQ(parse_rate("0.5", 1000, error), 0.5);
  EXPECT_EQ(parse_rate("1000", 1000, error), 1000.0);
  for (const char* bad : {"", "0", "0.0", "-2", "1001", "x10", "10x", "nan", "inf", "1e2"}) {
    EXPECT_FALSE(parse_rate(bad, 1000, error).has_value()) << bad;
    EXPECT_FALSE(error.empty());
  }
  parse_rate("0", 1000, error);
  EXPECT_NE(error.find("--freeze"), std::string::npos) << error;
}

Options parse(std::vector<std::string> words) {
  words.insert(words.begin(), "vdsorun");
  words.push_back("prog");
  return parse_options(words, nullptr);
}

TEST(TimeOptions, CommandLine) {
  EXPECT_FALSE(parse({}).time.active());
  Options o = parse({"--time=2038-01-19T03:13:57Z", "--rate", "10"});
  EXPECT_EQ(o.time.realtime_start_ns, 2147483637 * kNs);
  EXPECT_EQ(o.time.rate, 10.0);
  EXPECT_FALSE(o.time.freeze);
  EXPECT_EQ(o.program_args, std::vector<std::string>{"prog"});

  o = parse({"--offset", "-36h"});
  EXPECT_EQ(o.time.realtime_offset_ns, -36 * 3600 * kNs);

  // --freeze takes its value only with '=': the next word is the program.
  o = parse_options({"vdsorun", "--freeze", "date", "-u"}, nullptr);
  EXPECT_TRUE(o.time.freeze);
  EXPECT_FALSE(o.time.realtime_start_ns.has_value());
  EXPECT_EQ(o.program_args, (std::vector<std::string>{"date", "-u"}));
  o = parse({"--freeze=@1000"});
  EXPECT_EQ(o.time.realtime_start_ns, 1000 * kNs);
  o = parse({"--time=@1000", "--freeze"});
  EXPECT_TRUE(o.time.freeze);
  EXPECT_EQ(o.time.realtime_start_ns, 1000 * kNs);
  o = parse({"--freeze", "--rate=2", "--offset=+1d"});
  EXPECT_TRUE(o.time.active());

  // Two answers to "where is the clock" are refused; so are bad values, naming the option.
  for (const auto& words : std::vector<std::vector<std::string>>{
           {"--time=@1", "--offset=+1h"},
           {"--time=@1", "--freeze=@2"},
           {"--freeze=@2", "--offset=+1h"},
           {"--time=yesterday"},
           {"--offset=soon"},
           {"--rate=0"},
           {"--rate=fast"},
           {"--freeze=never"}}) {
    try {
      parse(words);
      ADD_FAILURE() << words[0] << " accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--"), std::string::npos) << e.what();
    }
  }
}

TEST(TimeOptions, NotWithAttach) {
  try {
    parse_options({"vdsorun", "-p", "1", "--rate=2"}, nullptr);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("-p"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cli
