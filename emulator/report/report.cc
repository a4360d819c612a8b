// Report formatting: a short text summary and a JSON document (schema in man/vdsorun.1).
#include "emulator/report/report.h"

#include <cstdio>

#include "emulator/report/elf_symbols.h"

namespace emulator {
namespace {

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

// The outcome as the report writes it.
std::string outcome_text(const SiteStats& s, Outcome o) {
  if (o == Outcome::kReadNotEmulated) return "SIGSEGV (not emulated: " + s.reason + ")";
  return std::string(outcome_name(o));
}

std::string site_text(const SiteStats& s) {
  std::string t = hex(s.site.address);
  if (!s.site.module.empty()) t += " " + s.site.module + "+" + hex(s.site.module_offset);
  if (!s.site.symbol.empty()) t += " <" + s.site.symbol + ">";
  if (!s.site.instruction.empty()) t += " `" + s.site.instruction + "`";
  t += ":";
  // Appends, not `" " + std::to_string(n) + ...`: that temporary chain trips GCC 12's
  // -Wrestrict false positive (GCC bug 105651) at -O2 and above.
  for (const auto& [what, n] : s.outcomes)
    t.append(" ").append(std::to_string(n)).append(" ").append(outcome_text(s, what));
  if (s.patch) {
    t.append("; patched after ")
        .append(std::to_string(s.patch->after_stops))
        .append(s.patch->after_stops == 1 ? " stop, " : " stops, ")
        .append(std::to_string(s.patch->patched_calls))
        .append(" calls since without a stop");
  } else if (!s.not_patched.empty()) {
    t.append("; not patched: ").append(s.not_patched);
  }
  if (s.scan_missed) t.append("; `vdsorun scan` of this file does not find this site");
  return t;
}

void site_json(std::ostream& out, const SiteStats& s, const char* addr_key) {
  out << "{\"" << addr_key << "\": " << json_string(hex(s.site.address))
      << ", \"module\": " << json_string(s.site.module)
      << ", \"module_offset\": " << json_string(hex(s.site.module_offset))
      << ", \"symbol\": " << json_string(s.site.symbol)
      << ", \"instruction\": " << json_string(s.site.instruction) << ", \"count\": " << s.count
      << ", \"outcomes\": {";
  bool first = true;
  for (const auto& [what, n] : s.outcomes) {
    out << (first ? "" : ", ") << json_string(outcome_text(s, what)) << ": " << n;
    first = false;
  }
  out << "}, \"patch\": ";
  if (s.patch) {
    out << "{\"form\": " << json_string(s.patch->form) << ", \"after_stops\": " << s.patch->after_stops
        << ", \"patched_calls\": " << s.patch->patched_calls << "}";
  } else {
    out << "null";
  }
  if (!s.not_patched.empty()) out << ", \"not_patched\": " << json_string(s.not_patched);
  if (s.scan_missed) out << ", \"scan_missed\": true";
  out << "}";
}

void resolve(std::map<std::string, std::optional<ElfSymbols>>& cache, SiteStats& s) {
  if (s.site.module.empty() || s.site.module[0] != '/') return;
  auto it = cache.find(s.site.module);
  if (it == cache.end()) it = cache.emplace(s.site.module, ElfSymbols::load(s.site.module)).first;
  if (!it->second) return;
  if (auto hit = it->second->lookup_file_offset(s.site.module_offset))
    s.site.symbol = hit->name + "+" + hex(hit->offset_in_symbol);
}

}  // namespace

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kEmulated:
      return "emulated";
    case Outcome::kNative:
      return "native";
    case Outcome::kSigsegv:
      return "SIGSEGV";
    case Outcome::kSigtrap:
      return "SIGTRAP";
    case Outcome::kSigill:
      return "SIGILL";
    case Outcome::kEnosys:
      return "ENOSYS";
    case Outcome::kNativeNotEmulated:
      return "SIGSEGV (native execution of this offset not emulated)";
    case Outcome::kReadEmulated:
      return "read-emulated";
    case Outcome::kReadOnCopy:
      return "read-emulated (executed on a copy)";
    case Outcome::kWriteFault:
      return "SIGSEGV (write)";
    case Outcome::kReadNotEmulated:
      return "SIGSEGV (not emulated)";
  }
  return "?";
}

ProcessReport& Report::image(pid_t pid) {
  auto it = current_.find(pid);
  if (it == current_.end()) {
    images_.push_back(ProcessReport{});
    images_.back().pid = pid;
    it = current_.emplace(pid, images_.size() - 1).first;
  }
  return images_[it->second];
}

void Report::new_image(pid_t pid, const std::string& executable, const std::string& vdso) {
  images_.push_back(ProcessReport{});
  images_.back().pid = pid;
  images_.back().executable = executable;
  images_.back().vdso = vdso;
  current_[pid] = images_.size() - 1;
}

bool Report::empty() const {
  if (!attach_.empty()) return false;
  for (const ProcessReport& p : images_) {
    if (!p.entries.empty() || p.other_calls || p.reads) return false;
  }
  return true;
}

void Report::resolve_symbols() {
  std::map<std::string, std::optional<ElfSymbols>> cache;
  for (ProcessReport& p : images_) {
    for (auto& [e, st] : p.entries)
      for (auto& [a, s] : st.call_sites) resolve(cache, s);
    for (auto& [a, s] : p.other_sites) resolve(cache, s);
    for (auto& [a, s] : p.read_sites) resolve(cache, s);
  }
}

void Report::write_text(std::ostream& out) const {
  out << "vdsorun: vsyscall report (mode " << mode_ << ", host " << host_mode_ << ", vdso "
      << vdso_mode_ << ")\n";
  if (time_) out << "  clocks: " << time_->description << "\n";
  for (const ProcessReport& p : images_) {
    if (p.entries.empty() && !p.other_calls && !p.reads) continue;
    out << "  pid " << p.pid << " " << p.executable << "\n";
    for (const auto& [e, st] : p.entries) {
      out << "    " << vsyscall::entry_name(e) << ": " << st.calls
          << (st.calls == 1 ? " call" : " calls") << "\n";
      for (const auto& [a, s] : st.call_sites) out << "      from " << site_text(s) << "\n";
    }
    if (p.other_calls) {
      out << "    off-entry jumps into the page: " << p.other_calls << "\n";
      for (const auto& [a, s] : p.other_sites) out << "      at " << site_text(s) << "\n";
    }
    if (p.reads) {
      out << "    reads of the page: " << p.reads << "\n";
      for (const auto& [a, s] : p.read_sites) out << "      by " << site_text(s) << "\n";
    }
  }
  if (!exit_.empty()) out << "  program " << exit_ << "\n";
  if (!attach_.empty()) out << "  " << attach_ << "\n";
}

void Report::write_json(std::ostream& out) const {
  out << "{\n  \"version\": 1,\n  \"mode\": " << json_string(mode_)
      << ",\n  \"host_mode\": " << json_string(host_mode_)
      << ",\n  \"vdso\": " << json_string(vdso_mode_) << ",\n  \"exit\": " << json_string(exit_);
  out << ",\n  \"time\": ";
  if (time_) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.17g", time_->rate);
    out << "{\"description\": " << json_string(time_->description)
        << ", \"realtime_at_start\": " << json_string(time_->realtime_start)
        << ", \"realtime_at_start_ns\": " << time_->realtime_start_ns
        << ", \"offset_ns\": " << time_->offset_ns << ", \"rate\": " << rate
        << ", \"freeze\": " << (time_->freeze ? "true" : "false") << "}";
  } else {
    out << "null";
  }
  if (!attach_.empty()) out << ",\n  \"attach\": " << json_string(attach_);
  out << ",\n  \"processes\": [";
  bool first_p = true;
  for (const ProcessReport& p : images_) {
    out << (first_p ? "\n" : ",\n") << "    {\"pid\": " << p.pid
        << ", \"executable\": " << json_string(p.executable)
        << ", \"vdso_mapping\": " << json_string(p.vdso) << ", \"entries\": {";
    first_p = false;
    bool first_e = true;
    for (const auto& [e, st] : p.entries) {
      out << (first_e ? "" : ", ") << json_string(std::string(vsyscall::entry_name(e)))
          << ": {\"address\": " << json_string(hex(vsyscall::entry_address(e)))
          << ", \"calls\": " << st.calls << ", \"call_sites\": [";
      first_e = false;
      bool first_s = true;
      for (const auto& [a, s] : st.call_sites) {
        out << (first_s ? "" : ", ");
        site_json(out, s, "return_address");
        first_s = false;
      }
      out << "]}";
    }
    out << "}, \"other_calls\": " << p.other_calls << ", \"other_call_sites\": [";
    bool first_s = true;
    for (const auto& [a, s] : p.other_sites) {
      out << (first_s ? "" : ", ");
      site_json(out, s, "target");
      first_s = false;
    }
    out << "], \"reads\": " << p.reads << ", \"read_sites\": [";
    first_s = true;
    for (const auto& [a, s] : p.read_sites) {
      out << (first_s ? "" : ", ");
      site_json(out, s, "instruction_address");
      first_s = false;
    }
    out << "]}";
  }
  out << "\n  ]\n}\n";
}

}  // namespace emulator
