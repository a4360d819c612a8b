// `vdsorun scan [--json] PATH...`: walks files and directories and reports, per x86-64 ELF
// file, what it does with the vsyscall page, without running anything.
#pragma once

#include <string>
#include <vector>

#include "scan/scan_report.h"

namespace scan {

// Scans one path (a file, or a directory walked without following its symlinks) into `out`.
// Errors are recorded in out->errors and also printed as `vdsorun: ...` on stderr.
void scan_path(const std::string& path, ScanSummary* out);

// Scans one regular file (already known to be one) into `out`.
void scan_file(const std::string& path, ScanSummary* out);

// The whole subcommand; `args` are the words after "scan". Returns the exit status.
int scan_main(const std::vector<std::string>& args);

std::string scan_help_text();

}  // namespace scan
