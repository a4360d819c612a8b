// `vdsorun scan` on real files: the tracee programs (whose call sites and reads are known),
// Debian's own binaries (clean), bad paths, non-ELF and 32-bit files, and the JSON output.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "host.h"
#include "json.h"
#include "process.h"

namespace integration {
namespace {

std::string program(const std::string& name, bool is_static) {
  return programs_dir() + "/" + name + (is_static ? "_static" : "");
}

RunResult scan(std::vector<std::string> args) {
  args.insert(args.begin(), {vdsorun_path(), "scan"});
  return run_command(args);
}

// `vdsorun scan --json ARGS...`, parsed; fails the test when the output is not JSON.
JsonValue scan_json(const std::vector<std::string>& args, RunResult* result = nullptr) {
  std::vector<std::string> a = {"--json"};
  a.insert(a.end(), args.begin(), args.end());
  RunResult r = scan(a);
  std::string error;
  auto doc = parse_json(r.out, &error);
  EXPECT_TRUE(doc.has_value()) << error << "\n" << r.describe();
  if (result != nullptr) *result = r;
  return doc ? *doc : JsonValue{};
}

const JsonValue* only_file(const JsonValue& doc) {
  const JsonValue* files = doc.get("files");
  if (files == nullptr || files->items.size() != 1) return nullptr;
  return &files->items[0];
}

std::string str(const JsonValue* v, const std::string& key) {
  const JsonValue* x = v != nullptr ? v->get(key) : nullptr;
  return x != nullptr ? x->string : "<missing " + key + ">";
}

// The entries of the call sites, as "call gettimeofday" / "jmp time".
std::multiset<std::string> call_entries(const JsonValue* file) {
  std::multiset<std::string> out;
  const JsonValue* calls = file != nullptr ? file->get("call_sites") : nullptr;
  if (calls == nullptr) return out;
  for (const JsonValue& c : calls->items) out.insert(str(&c, "kind") + " " + str(&c, "entry"));
  return out;
}

class ScanPrograms : public testing::TestWithParam<bool> {};

TEST_P(ScanPrograms, GlibcSequencesAreFoundWithTheirEntries) {
  RunResult r;
  const JsonValue doc = scan_json({program("glibc_sequences", GetParam())}, &r);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const JsonValue* f = only_file(doc);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(call_entries(f),
            (std::multiset<std::string>{"call gettimeofday", "jmp time", "call getcpu"}));
  for (const JsonValue& c : f->get("call_sites")->items) {
    EXPECT_EQ(str(&c, "form"), "immediate");
    EXPECT_NE(str(&c, "sequence").find("$0xffffffffff600"), std::string::npos);
  }
}

TEST_P(ScanPrograms, CallsThroughPointersAreFoundThroughTheirDataWords) {
  RunResult r;
  const JsonValue doc = scan_json({program("call_entries", GetParam())}, &r);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const JsonValue* f = only_file(doc);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(str(f, "verdict"), "breaks-none") << r.out;
  const auto entries = call_entries(f);
  for (const char* e : {"call gettimeofday", "call time", "call getcpu"})
    EXPECT_GE(entries.count(e), 1u) << e << "\n" << r.out;
  EXPECT_EQ(f->get("data_words")->items.size(), 3u) << r.out;
  EXPECT_TRUE(f->get("page_reads")->items.empty()) << r.out;

  const JsonValue vfork = scan_json({program("vfork_exec", GetParam())});
  EXPECT_EQ(call_entries(only_file(vfork)), (std::multiset<std::string>{"call time"}));
}

TEST_P(ScanPrograms, ReadPageBreaksOnXonly) {
  RunResult r;
  const JsonValue doc = scan_json({program("read_page", GetParam())}, &r);
  const JsonValue* f = only_file(doc);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(str(f, "verdict"), "breaks-xonly") << r.out;
  bool moffs = false;
  for (const JsonValue& p : f->get("page_reads")->items)
    moffs = moffs || str(&p, "target") == "0xffffffffff600808";
  EXPECT_TRUE(moffs) << "movabs 0xffffffffff600808,%rax not found\n" << r.out;
  // The pointers it hands to its read helpers: page+0x403, +0x3f0, +0x7f0.
  std::set<std::string> targets;
  for (const JsonValue& p : f->get("page_addresses")->items) targets.insert(str(&p, "target"));
  EXPECT_TRUE(targets.count("0xffffffffff600403")) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Scan, ScanPrograms, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& p) {
                           return p.param ? "static" : "dynamic";
                         });

TEST(ScanCommand, OldGoFallbackUsesThePageOnlyWithoutAVdso) {
  RunResult r;
  const JsonValue doc = scan_json({programs_dir() + "/go115_like"}, &r);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const JsonValue* f = only_file(doc);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(str(f, "verdict"), "no-vdso") << r.out;
  EXPECT_EQ(str(f, "go"), "go1.15.15") << r.out;
  ASSERT_NE(f->get("vdso_fallback"), nullptr);
  EXPECT_TRUE(f->get("vdso_fallback")->boolean);
  EXPECT_EQ(call_entries(f), (std::multiset<std::string>{"call gettimeofday"})) << r.out;
  const JsonValue& site = f->get("call_sites")->items.at(0);
  EXPECT_EQ(str(&site, "form"), "word-register");
  EXPECT_TRUE(site.get("fallback")->boolean);
}

TEST(ScanCommand, OldGlibcIfuncFallbackUsesThePageOnlyWithoutAVdso) {
  RunResult r;
  const JsonValue doc = scan_json({programs_dir() + "/libglibc213_like.so"}, &r);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const JsonValue* f = only_file(doc);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(str(f, "verdict"), "no-vdso") << r.out;
  EXPECT_EQ(str(f, "libc"), "glibc 2.13") << r.out;
  EXPECT_TRUE(f->get("vdso_fallback")->boolean);
  EXPECT_TRUE(f->get("call_sites")->items.empty()) << r.out;
  std::set<std::string> targets;
  for (const JsonValue& p : f->get("page_addresses")->items) targets.insert(str(&p, "target"));
  EXPECT_EQ(targets, (std::set<std::string>{"0xffffffffff600000", "0xffffffffff600400"}));
}

TEST(ScanCommand, TextNamesTheFileVerdictAndCallSite) {
  const RunResult r = scan({program("glibc_sequences", true)});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("glibc_sequences_static: breaks on vsyscall=xonly"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("mov $0xffffffffff600400,%rax; jmp *%rax -> time"), std::string::npos)
      << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(ScanCommand, DebianBinariesAreClean) {
  std::vector<std::string> paths = {"/bin/true"};
  if (access("/usr/bin/python3", X_OK) == 0) paths.push_back("/usr/bin/python3");
  RunResult r;
  const JsonValue doc = scan_json(paths, &r);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  const JsonValue* files = doc.get("files");
  ASSERT_NE(files, nullptr);
  ASSERT_EQ(files->items.size(), paths.size()) << r.out;
  for (const JsonValue& f : files->items) {
    EXPECT_EQ(str(&f, "verdict"), "clean") << r.out;
    EXPECT_EQ(str(&f, "libc").rfind("glibc", 0), 0u) << r.out;
  }
  const RunResult text = scan(paths);
  EXPECT_EQ(text.exit_code, 1) << text.describe();
}

TEST(ScanCommand, MissingPathIsAnErrorButTheRestIsScanned) {
  RunResult r;
  const JsonValue doc = scan_json({"/nonexistent/vdsorun-scan", "/bin/true"}, &r);
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_NE(r.err.find("vdsorun: /nonexistent/vdsorun-scan: No such file or directory"),
            std::string::npos)
      << r.err;
  ASSERT_NE(doc.get("files"), nullptr);
  EXPECT_EQ(doc.get("files")->items.size(), 1u);
  ASSERT_NE(doc.get("errors"), nullptr);
  EXPECT_EQ(doc.get("errors")->items.size(), 1u);

  const RunResult text = scan({"/nonexistent/vdsorun-scan"});
  EXPECT_EQ(text.exit_code, 2) << text.describe();
}

TEST(ScanCommand, DirectoryWalkSkipsNonElfAnd32BitFiles) {
  char tmpl[] = "/tmp/vdsorun-scan-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    std::ofstream(dir + "/script.sh") << "#!/bin/sh\necho mov $0xffffffffff600000\n";
    // An i386 ELF header: skipped from its first bytes, whatever follows.
    std::string elf32 = std::string(
                            "\x7f"
                            "ELF\x01\x01\x01",
                            7) +
                        std::string(9, '\0');
    elf32 += std::string("\x02\x00\x03\x00", 4) + std::string(200, '\xff');
    std::ofstream(dir + "/i386") << elf32;
  }
  RunResult r;
  const JsonValue doc = scan_json({dir}, &r);
  run_command({"rm", "-rf", dir});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  const JsonValue* summary = doc.get("summary");
  ASSERT_NE(summary, nullptr) << r.out;
  EXPECT_EQ(summary->get("files_seen")->number, 2);
  EXPECT_EQ(summary->get("elf_files")->number, 0);
}

TEST(ScanCommand, JsonSummaryCountsTheProgramsDirectory) {
  RunResult r;
  const JsonValue doc = scan_json({programs_dir()}, &r);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const JsonValue* summary = doc.get("summary");
  ASSERT_NE(summary, nullptr);
  const double elf = summary->get("elf_files")->number;
  EXPECT_EQ(elf, static_cast<double>(doc.get("files")->items.size()));
  EXPECT_EQ(summary->get("breaks-xonly")->number + summary->get("breaks-none")->number +
                summary->get("no-vdso")->number + summary->get("clean")->number,
            elf);
  EXPECT_GT(summary->get("files_seen")->number, elf);  // several.sh, object files' folders
}

TEST(ScanCommand, HelpAndUsageErrors) {
  const RunResult help = scan({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.describe();
  EXPECT_NE(help.out.find("Usage: vdsorun scan"), std::string::npos);
  const RunResult top = run_command({vdsorun_path(), "--help"});
  EXPECT_NE(top.out.find("vdsorun scan [--json] PATH..."), std::string::npos) << top.out;
  const RunResult none = scan({});
  EXPECT_EQ(none.exit_code, 2) << none.describe();
  EXPECT_NE(none.err.find("vdsorun: scan: no PATH"), std::string::npos);
  const RunResult bad = scan({"--bogus", "/bin/true"});
  EXPECT_EQ(bad.exit_code, 2) << bad.describe();
}

}  // namespace
}  // namespace integration
