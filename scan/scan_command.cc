// The scan subcommand: argument parsing, the directory walk, one file's scan, the output.
#include "scan/scan_command.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>

#include "scan/elf_image.h"

namespace scan {
namespace {

void record_error(ScanSummary* out, const std::string& path, const std::string& message) {
  std::fprintf(stderr, "vdsorun: %s: %s\n", path.c_str(), message.c_str());
  out->errors.push_back({path, message});
}

// Closes the directory stream when the walk of one directory ends.
struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

void walk_directory(const std::string& dir, ScanSummary* out) {
  std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
  if (!d) {
    record_error(out, dir, std::strerror(errno));
    return;
  }
  struct Entry {
    std::string name;
    unsigned char type;
  };
  std::vector<Entry> entries;
  while (const dirent* e = readdir(d.get())) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    entries.push_back({e->d_name, e->d_type});
  }
  d.reset();
  // Sorted, so that the output of a tree does not depend on the file system's order.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  const std::string prefix = dir.back() == '/' ? dir : dir + "/";
  for (const Entry& e : entries) {
    const std::string path = prefix + e.name;
    unsigned char type = e.type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (lstat(path.c_str(), &st) != 0) {
        record_error(out, path, std::strerror(errno));
        continue;
      }
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
    }
    // Symbolic links inside a tree are not followed: no loops, no file scanned twice.
    if (type == DT_DIR) {
      walk_directory(path, out);
    } else if (type == DT_REG) {
      scan_file(path, out);
    }
  }
}

}  // namespace

void scan_file(const std::string& path, ScanSummary* out) {
  ++out->files_seen;
  MappedFile mapped;
  std::string error;
  switch (map_elf(path, &mapped, &error)) {
    case OpenResult::kNotElf:
      return;
    case OpenResult::kError:
      record_error(out, path, error);
      return;
    case OpenResult::kElf:
      break;
  }
  const ElfImage elf(mapped.bytes());
  FileResult r;
  r.path = path;
  r.findings = vsyscall::scan_image(elf.image_view());
  r.runtime = runtime_of(elf);
  r.assessment = vsyscall::assess(r.findings, r.runtime.facts);
  out->files.push_back(std::move(r));
}

void scan_path(const std::string& path, ScanSummary* out) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    record_error(out, path, std::strerror(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    walk_directory(path, out);
  } else if (S_ISREG(st.st_mode)) {
    scan_file(path, out);
  }
}

std::string scan_help_text() {
  return "Usage: vdsorun scan [--json] PATH...\n"
         "Find, without running anything, the x86-64 programs and libraries under PATH that use\n"
         "the legacy vsyscall page, and say on which kernels they break.\n"
         "\n"
         "  --json      one JSON document on stdout (every ELF file, its findings, a summary)\n"
         "  -h, --help  this text\n"
         "\n"
         "Verdicts: breaks on vsyscall=xonly (reads the page), breaks on vsyscall=none (calls\n"
         "it), uses the page only without a vDSO (old Go and glibc fallbacks), clean.\n"
         "Directories are walked without following symbolic links; non-ELF and 32-bit files\n"
         "are skipped. Exit status: 0 if something was found, 1 if all is clean, 2 on error.\n";
}

int scan_main(const std::vector<std::string>& args) {
  bool json = false;
  std::vector<std::string> paths;
  bool options_done = false;
  for (const std::string& a : args) {
    if (!options_done && a == "--") {
      options_done = true;
    } else if (!options_done && (a == "-h" || a == "--help")) {
      std::cout << scan_help_text();
      return 0;
    } else if (!options_done && a == "--json") {
      json = true;
    } else if (!options_done && a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr,
                   "vdsorun: scan: unknown option '%s'\nTry 'vdsorun scan --help' for more "
                   "information.\n",
                   a.c_str());
      return 2;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr,
                 "vdsorun: scan: no PATH given\nTry 'vdsorun scan --help' for more "
                 "information.\n");
    return 2;
  }
  ScanSummary summary;
  for (const std::string& p : paths) scan_path(p, &summary);
  std::ostringstream text;
  if (json) {
    write_json(text, summary);
  } else {
    write_text(text, summary);
  }
  std::cout << text.str() << std::flush;
  if (!std::cout) {
    std::fprintf(stderr, "vdsorun: scan: writing the output failed\n");
    return 2;
  }
  return summary.exit_status();
}

}  // namespace scan
