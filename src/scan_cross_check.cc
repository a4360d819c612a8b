// Groups the report's sites by module, scans each module once (scan/site_check.h), marks.
#include "src/scan_cross_check.h"

#include <map>
#include <string>
#include <vector>

#include "scan/site_check.h"

namespace cli {

void mark_scan_misses(emulator::Report& report) {
  struct Module {
    std::vector<emulator::SiteStats*> calls, reads;
    scan::SeenSites seen;
  };
  std::map<std::string, Module> modules;
  auto in_file = [](const emulator::SiteStats& s) {
    return !s.site.module.empty() && s.site.module[0] == '/';
  };
  for (emulator::ProcessReport& p : report.images()) {
    for (auto& [entry, stats] : p.entries) {
      for (auto& [ret, s] : stats.call_sites) {
        if (!in_file(s)) continue;
        Module& m = modules[s.site.module];
        m.calls.push_back(&s);
        m.seen.call_returns.push_back(s.site.module_offset);
      }
    }
    for (auto& [at, s] : p.read_sites) {
      if (!in_file(s)) continue;
      Module& m = modules[s.site.module];
      m.reads.push_back(&s);
      m.seen.reads.push_back(s.site.module_offset);
    }
  }
  for (auto& [path, m] : modules) {
    const auto check = scan::check_sites(path, m.seen);
    if (!check) continue;
    for (size_t i = 0; i < m.calls.size(); ++i) m.calls[i]->scan_missed = !check->calls_found[i];
    for (size_t i = 0; i < m.reads.size(); ++i) m.reads[i]->scan_missed = !check->reads_found[i];
  }
}

}  // namespace cli
