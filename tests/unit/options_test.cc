// Tests the command line: where vdsorun's options end, values, defaults and errors.
#include "src/options.h"

#include <gtest/gtest.h>

namespace cli {

TEST(Options, ProgramIndexStopsAtFirstNonOption) {
  EXPECT_EQ(program_index({"vdsorun", "ls", "-l"}), 1u);
  EXPECT_EQ(program_index({"vdsorun", "-q", "ls", "-l"}), 2u);
  EXPECT_EQ(program_index({"vdsorun", "-o", "r.json", "ls"}), 3u);
  EXPECT_EQ(program_index({"vdsorun", "--vsyscall", "none", "ls"}), 3u);
  EXPECT_EQ(program_index({"vdsorun", "--vsyscall=none", "ls"}), 2u);
  EXPECT_EQ(program_index({"vdsorun", "--", "-weird-name", "x"}), 2u);
  EXPECT_EQ(program_index({"vdsorun", "-q"}), 2u);
}

TEST(Options, DefaultsAreEmulateAndInject) {
  Options o = parse_options({"vdsorun", "prog"}, nullptr);
  EXPECT_EQ(o.vsyscall_mode, vsyscall::Mode::kEmulate);
  EXPECT_EQ(o.vdso_mode, emulator::VdsoMode::kInject);
  EXPECT_FALSE(o.quiet);
  EXPECT_FALSE(o.report_file.has_value());
  EXPECT_EQ(o.log_level, emulator::LogLevel::kWarn);
  ASSERT_EQ(o.program_args.size(), 1u);
  EXPECT_EQ(o.program_args[0], "prog");
}

TEST(Options, ProgramOptionsAreNotOurs) {
  Options o = parse_options({"vdsorun", "-q", "ls", "-q", "--vsyscall=none"}, nullptr);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.vsyscall_mode, vsyscall::Mode::kEmulate);
  EXPECT_EQ(o.program_args, (std::vector<std::string>{"ls", "-q", "--vsyscall=none"}));
}

// A script may pass -q and its caller -q again, as with -v; Boost would refuse the second.
TEST(Options, QuietMayBeRepeated) {
  EXPECT_TRUE(parse_options({"vdsorun", "-q", "-q", "ls"}, nullptr).quiet);
  EXPECT_TRUE(parse_options({"vdsorun", "-qq", "--quiet", "ls"}, nullptr).quiet);
  EXPECT_TRUE(parse_options({"vdsorun", "-q", "-v", "-q", "ls"}, nullptr).quiet);
}

TEST(Options, ParsesEveryMode) {
  EXPECT_EQ(parse_options({"v", "--vsyscall=none", "p"}, nullptr).vsyscall_mode,
            vsyscall::Mode::kNone);
  EXPECT_EQ(parse_options({"v", "--vsyscall", "xonly", "p"}, nullptr).vsyscall_mode,
            vsyscall::Mode::kXonly);
  EXPECT_EQ(parse_options({"v", "--vsyscall=native", "p"}, nullptr).vsyscall_mode,
            vsyscall::Mode::kNative);
  EXPECT_EQ(parse_options({"v", "--vdso=none", "p"}, nullptr).vdso_mode, emulator::VdsoMode::kNone);
  EXPECT_EQ(parse_options({"v", "--vdso", "host", "p"}, nullptr).vdso_mode,
            emulator::VdsoMode::kHost);
}

TEST(Options, PatchIsAutoUnlessOff) {
  EXPECT_TRUE(parse_options({"v", "p"}, nullptr).patch);
  EXPECT_TRUE(parse_options({"v", "--patch=auto", "p"}, nullptr).patch);
  EXPECT_FALSE(parse_options({"v", "--patch=off", "p"}, nullptr).patch);
  EXPECT_FALSE(parse_options({"v", "--patch", "off", "p"}, nullptr).patch);
  EXPECT_EQ(program_index({"vdsorun", "--patch", "off", "ls"}), 3u);
  EXPECT_THROW(parse_options({"v", "--patch=on", "p"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "--patch=", "p"}, nullptr), UsageError);
}

TEST(Options, ReportFileAndLogLevels) {
  Options o = parse_options({"v", "-o", "out.json", "-vv", "p"}, nullptr);
  EXPECT_EQ(o.report_file, "out.json");
  EXPECT_EQ(o.log_level, emulator::LogLevel::kDebug);
  EXPECT_EQ(parse_options({"v", "--report=r", "p"}, nullptr).report_file, "r");
  EXPECT_EQ(parse_options({"v", "p"}, "debug").log_level, emulator::LogLevel::kDebug);
  EXPECT_EQ(parse_options({"v", "--log-level=error", "p"}, "debug").log_level,
            emulator::LogLevel::kError);
}

TEST(Options, RejectsBadInput) {
  EXPECT_THROW(parse_options({"v", "--vsyscall=bogus", "p"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "--vdso=bogus", "p"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "--no-such-option", "p"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "-q"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "--vsyscall"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "--log-level=loud", "p"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "p"}, "loud"), UsageError);
}

TEST(Options, HelpNeedsNoProgram) {
  EXPECT_TRUE(parse_options({"v", "--help"}, nullptr).help);
  EXPECT_TRUE(parse_options({"v", "--version"}, nullptr).version);
  EXPECT_NE(help_text().find("--vsyscall"), std::string::npos);
}

// Found by fuzz/options_fuzzer.cc: Boost.Program_options replaced the placeholders of its error
// messages until none was left, so an option named like one never returned.
TEST(Options, PlaceholderTokensInOptionsAreRejectedNotLooped) {
  for (const char* bad : {"--%canonical_option%", "--%option%", "--x%value%", "-%prefix%",
                          "--%original_token%=%value%", "--quiet=%value%"}) {
    try {
      parse_options({"vdsorun", bad, "prog"}, nullptr);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UsageError& e) {
      // The message names the option as written.
      const std::string what = e.what();
      const std::string name = std::string(bad).substr(0, std::string(bad).find('='));
      EXPECT_NE(what.find(name.substr(name.find_first_not_of('-'))), std::string::npos)
          << bad << ": " << what;
    }
  }
}

TEST(Options, PercentAndEscapeBytesInValuesArePassedThrough) {
  Options o = parse_options({"vdsorun", "-o", "r%value%\x01p.json", "prog"}, nullptr);
  ASSERT_TRUE(o.report_file.has_value());
  EXPECT_EQ(*o.report_file, "r%value%\x01p.json");
  EXPECT_THROW(parse_options({"vdsorun", "--vsyscall=%value%", "prog"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"vdsorun", "--vsyscall", "%value%", "--vsyscall", "x", "p"}, nullptr),
               UsageError);
}

TEST(Options, AttachTakesAPidAndNoProgram) {
  Options o = parse_options({"v", "-p", "1234"}, nullptr);
  EXPECT_EQ(o.attach_pid, 1234);
  EXPECT_FALSE(o.attach_tree);
  EXPECT_TRUE(o.program_args.empty());
  o = parse_options({"v", "--pid=77", "--attach-tree", "-q"}, nullptr);
  EXPECT_EQ(o.attach_pid, 77);
  EXPECT_TRUE(o.attach_tree);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(parse_options({"v", "--vsyscall=none", "--pid", "5"}, nullptr).attach_pid, 5);
  EXPECT_FALSE(parse_options({"v", "prog"}, nullptr).attach_pid.has_value());
  EXPECT_EQ(program_index({"vdsorun", "-p", "5", "x"}), 3u);
}

TEST(Options, AttachRefusesBadPidsAndAProgram) {
  for (const char* bad : {"abc", "12x", "-3", "0", "", "99999999999", "+5", " 5"})
    EXPECT_THROW(parse_options({"v", "-p", bad}, nullptr), UsageError) << bad;
  EXPECT_THROW(parse_options({"v", "-p", "5", "prog"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "-p", "5", "--", "prog"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "--attach-tree", "prog"}, nullptr), UsageError);
  EXPECT_THROW(parse_options({"v", "-p"}, nullptr), UsageError);
}

}  // namespace cli
