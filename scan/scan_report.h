// The result of scanning files, and its text (for people) and JSON (for CI) forms.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "scan/runtime_facts.h"
#include "vsyscall/static_scan.h"

namespace scan {

struct FileResult {
  std::string path;
  vsyscall::Findings findings;
  vsyscall::Assessment assessment;
  FileRuntime runtime;
};

struct ScanError {
  std::string path;
  std::string message;
};

struct ScanSummary {
  std::vector<FileResult> files;  // every ELF file scanned, in walk order
  std::vector<ScanError> errors;
  size_t files_seen = 0;  // regular files looked at, ELF or not

  size_t count(vsyscall::Verdict v) const;
  // grep's convention: 2 on any error, else 0 when something was found, 1 when all clean.
  int exit_status() const;
};

// Each file that is not clean, with its findings, then a one-line summary.
void write_text(std::ostream& out, const ScanSummary& s);
void write_json(std::ostream& out, const ScanSummary& s);

// "gettimeofday", "time", "getcpu", or "page+0x123" for an address that is no entry.
std::string target_name(uint64_t address);

}  // namespace scan
