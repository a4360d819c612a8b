// Text and JSON output of `vdsorun scan`.
#include "scan/scan_report.h"

#include <cinttypes>
#include <cstdio>

#include "vsyscall/page.h"

namespace scan {
namespace {

using vsyscall::Verdict;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string_view form_name(vsyscall::SiteForm f) {
  switch (f) {
    case vsyscall::SiteForm::kImmediate:
      return "immediate";
    case vsyscall::SiteForm::kDirect:
      return "direct";
    case vsyscall::SiteForm::kWordMemory:
      return "word-memory";
    case vsyscall::SiteForm::kWordRegister:
      return "word-register";
  }
  return "?";
}

}  // namespace

std::string target_name(uint64_t address) {
  if (auto e = vsyscall::entry_at(address)) return std::string(vsyscall::entry_name(*e));
  return "page+" + hex(address - vsyscall::kPageBase);
}

size_t ScanSummary::count(Verdict v) const {
  size_t n = 0;
  for (const FileResult& f : files) n += f.assessment.verdict == v ? 1 : 0;
  return n;
}

int ScanSummary::exit_status() const {
  if (!errors.empty()) return 2;
  return count(Verdict::kClean) == files.size() ? 1 : 0;
}

void write_text(std::ostream& out, const ScanSummary& s) {
  for (const FileResult& f : s.files) {
    if (f.assessment.verdict == Verdict::kClean) continue;
    out << f.path << ": " << vsyscall::verdict_text(f.assessment.verdict);
    std::string about = f.runtime.libc;
    if (!f.runtime.go_version.empty()) about += (about.empty() ? "" : ", ") + f.runtime.go_version;
    if (!about.empty()) out << " [" << about << "]";
    out << "\n";
    for (const auto& c : f.findings.calls) {
      out << "  " << (c.jump ? "jump" : "call") << " at " << hex(c.address) << ": " << c.sequence
          << " -> " << target_name(c.target)
          << (c.fallback ? " (the runtime's fallback without a vDSO)" : "") << "\n";
    }
    for (const auto& r : f.findings.reads)
      out << "  read at " << hex(r.address) << ": " << r.text << " -> " << target_name(r.target)
          << "\n";
    for (const auto& r : f.findings.refs)
      out << "  page address at " << hex(r.address) << ": " << target_name(r.target)
          << " (handed on, not called here)\n";
    for (const auto& w : f.findings.words)
      out << "  data word at " << hex(w.address) << ": " << hex(w.value) << " ("
          << target_name(w.value) << ")\n";
    if (f.assessment.vdso_fallback)
      out << "  goes to the page when the vDSO is missing ("
          << (f.runtime.facts.go ? "Go < 1.16 vdsoGettimeofdaySym"
                                 : "glibc <= 2.14 time/gettimeofday/getcpu")
          << ")\n";
  }
  out << "vdsorun scan: " << s.files.size() << " ELF files of " << s.files_seen
      << " files: " << s.count(Verdict::kBreaksOnXonly) << " break on vsyscall=xonly, "
      << s.count(Verdict::kBreaksOnNone) << " break on vsyscall=none, "
      << s.count(Verdict::kNeedsVdso) << " use the page only without a vDSO, "
      << s.count(Verdict::kClean) << " clean";
  if (!s.errors.empty()) out << ", " << s.errors.size() << " errors";
  out << "\n";
}

void write_json(std::ostream& out, const ScanSummary& s) {
  out << "{\"files\":[";
  bool first = true;
  for (const FileResult& f : s.files) {
    out << (first ? "\n" : ",\n");
    first = false;
    out << "{\"path\":" << json_string(f.path) << ",\"verdict\":\""
        << vsyscall::verdict_name(f.assessment.verdict) << "\""
        << ",\"libc\":" << json_string(f.runtime.libc)
        << ",\"go\":" << json_string(f.runtime.go_version)
        << ",\"vdso_fallback\":" << (f.assessment.vdso_fallback ? "true" : "false")
        << ",\"call_sites\":[";
    for (size_t i = 0; i < f.findings.calls.size(); ++i) {
      const auto& c = f.findings.calls[i];
      out << (i ? "," : "") << "{\"address\":\"" << hex(c.address) << "\",\"form\":\""
          << form_name(c.form) << "\",\"kind\":\"" << (c.jump ? "jmp" : "call")
          << "\",\"entry\":" << json_string(target_name(c.target)) << ",\"target\":\""
          << hex(c.target) << "\",\"setup\":\"" << hex(c.setup_address)
          << "\",\"sequence\":" << json_string(c.sequence)
          << ",\"fallback\":" << (c.fallback ? "true" : "false") << "}";
    }
    out << "],\"page_reads\":[";
    for (size_t i = 0; i < f.findings.reads.size(); ++i) {
      const auto& r = f.findings.reads[i];
      out << (i ? "," : "") << "{\"address\":\"" << hex(r.address) << "\",\"target\":\""
          << hex(r.target) << "\",\"instruction\":" << json_string(r.text) << "}";
    }
    out << "],\"page_addresses\":[";
    for (size_t i = 0; i < f.findings.refs.size(); ++i) {
      const auto& r = f.findings.refs[i];
      out << (i ? "," : "") << "{\"address\":\"" << hex(r.address) << "\",\"target\":\""
          << hex(r.target) << "\"}";
    }
    out << "],\"data_words\":[";
    for (size_t i = 0; i < f.findings.words.size(); ++i) {
      const auto& w = f.findings.words[i];
      out << (i ? "," : "") << "{\"address\":\"" << hex(w.address) << "\",\"value\":\""
          << hex(w.value) << "\"}";
    }
    out << "]}";
  }
  out << "],\n\"errors\":[";
  for (size_t i = 0; i < s.errors.size(); ++i) {
    out << (i ? "," : "") << "{\"path\":" << json_string(s.errors[i].path)
        << ",\"message\":" << json_string(s.errors[i].message) << "}";
  }
  out << "],\n\"summary\":{\"files_seen\":" << s.files_seen << ",\"elf_files\":" << s.files.size()
      << ",\"breaks-xonly\":" << s.count(Verdict::kBreaksOnXonly)
      << ",\"breaks-none\":" << s.count(Verdict::kBreaksOnNone)
      << ",\"no-vdso\":" << s.count(Verdict::kNeedsVdso)
      << ",\"clean\":" << s.count(Verdict::kClean) << ",\"errors\":" << s.errors.size() << "}}\n";
}

}  // namespace scan
