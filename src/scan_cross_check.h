// The report against `vdsorun scan`: a call site or page read the program was seen to make,
// in a file the static scanner does not find it in, is marked in the report (issue 11: where
// a running program and the scan disagree, the report says so).
#pragma once

#include "emulator/report/report.h"

namespace cli {

// Scans each file (module) the report's call sites and reads are in, once, and sets
// SiteStats::scan_missed on those the scan does not find. Files that cannot be read again
// (deleted, replaced by a non-ELF file) are left unmarked.
void mark_scan_misses(emulator::Report& report);

}  // namespace cli
