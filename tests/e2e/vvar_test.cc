// The vvar page as a traced program sees it: read-only and shared, with no way to make it
// writable or to write the object behind it; and no descriptor of vdsorun's left open.
#include <gtest/gtest.h>

#include <algorithm>

#include "e2e_support.h"

namespace e2e {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(Vvar, CannotBeWrittenFromInsideTheTracee) {
  RunSpec spec;
  spec.vdso = Vdso::kInject;
  const Outcome r = run({program("vvar_guard")}, spec);
  ASSERT_TRUE(r.result.exited && r.result.exit_code == 0) << r.command << "\n"
                                                          << r.result.describe();
  const auto records = parse_records(r.result.out);
  const Record* vvar = find_record(records, "vvar", "perms");
  ASSERT_NE(vvar, nullptr) << r.result.out;
  EXPECT_EQ(vvar->at("perms"), "r--s") << vvar->line;
  EXPECT_EQ(vvar->at("image_perms"), "r-xp") << vvar->line;
  EXPECT_EQ(vvar->at("adjacent"), "1") << "the vvar must lie right below the image: " << vvar->line;

  auto result_of = [&](const std::string& what) {
    const Record* a = find_record(records, "attempt", "what", what);
    return a != nullptr ? a->at("result") : std::string("missing");
  };
  // The kernel's answers for a shared read-only mapping of an F_SEAL_FUTURE_WRITE memfd.
  EXPECT_EQ(result_of("mprotect_read_write"), "EACCES");
  EXPECT_EQ(result_of("mprotect_read_write_exec"), "EACCES");
  EXPECT_EQ(result_of("madvise_remove"), "EACCES");
  EXPECT_EQ(result_of("map_files_rdonly_mmap_shared_write"), "EACCES");
  EXPECT_EQ(result_of("map_files_rdwr_pwrite"), "EPERM");
  EXPECT_EQ(result_of("map_files_rdwr_mmap_shared_write"), "EPERM");

  // Opening the object read-write may succeed (root may open /proc/PID/map_files and
  // /proc/PID/fd links); nothing written through any path may.
  int attempts = 0;
  for (const Record& a : records_of(records, "attempt")) {
    ++attempts;
    const std::string& what = a.at("what");
    if (ends_with(what, "_open_rdwr") || ends_with(what, "_open_rdonly")) {
      std::printf("note: %s\n", a.line.c_str());
      continue;
    }
    EXPECT_NE(a.at("result"), "ok") << "a write path is open: " << a.line;
  }
  EXPECT_GE(attempts, 12) << r.result.out;
  EXPECT_NE(result_of("proc_self_mem_write"), "missing");
  EXPECT_NE(result_of("process_vm_writev"), "missing");
  // vdsorun's own descriptors of both memfds were found and tried.
  const Record* sup = find_record(records, "supervisor_fds");
  ASSERT_NE(sup, nullptr) << r.result.out;
  EXPECT_EQ(sup->num("memfds"), 2) << sup->line;
  EXPECT_NE(result_of("supervisor_vvar_pwrite"), "missing");
  EXPECT_NE(result_of("supervisor_image_pwrite"), "missing");

  const Record* after = find_record(records, "vvar", "header_unchanged");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->at("header_unchanged"), "1");
}

std::vector<std::string> fd_lines(const Outcome& r) {
  std::vector<std::string> lines;
  for (const Record& rec : records_of(parse_records(r.result.out), "fd")) lines.push_back(rec.line);
  return lines;
}

TEST(Vvar, NoDescriptorIsLeftInTheTracee) {
  RunSpec direct;
  direct.vdso = Vdso::kDirect;
  const Outcome base = run({program("fd_list")}, direct);
  ASSERT_TRUE(base.result.exited && base.result.exit_code == 0) << base.result.describe();
  ASSERT_NE(base.result.out.find("fd_list done"), std::string::npos) << base.result.out;
  const auto expected = fd_lines(base);
  ASSERT_FALSE(expected.empty());
  for (Vdso v : {Vdso::kInject, Vdso::kHost, Vdso::kNone}) {
    RunSpec spec;
    spec.vdso = v;
    spec.report = false;  // see ReportFileIsNotInheritedByTheProgram
    const Outcome r = run({program("fd_list")}, spec);
    ASSERT_TRUE(r.result.exited && r.result.exit_code == 0) << r.command << "\n"
                                                            << r.result.describe();
    ASSERT_NE(r.result.out.find("fd_list done"), std::string::npos) << r.result.out;
    EXPECT_EQ(fd_lines(r), expected) << "--vdso=" << vdso_name(v) << "\n" << r.result.out;
    EXPECT_EQ(r.result.out.find("vdsorun"), std::string::npos) << r.result.out;
    EXPECT_EQ(r.result.out.find("memfd"), std::string::npos) << r.result.out;
  }
}

// vdsorun -o FILE opens FILE before it starts the program: the program must not inherit it.
TEST(Vvar, ReportFileIsNotInheritedByTheProgram) {
  RunSpec spec;
  spec.vdso = Vdso::kInject;
  spec.report = true;
  const Outcome r = run({program("fd_list")}, spec);
  ASSERT_TRUE(r.result.exited && r.result.exit_code == 0) << r.command << "\n"
                                                          << r.result.describe();
  for (const std::string& line : fd_lines(r)) {
    EXPECT_EQ(line.find("/report-"), std::string::npos)
        << "the program holds vdsorun's report file open: " << line;
  }
}

}  // namespace
}  // namespace e2e
