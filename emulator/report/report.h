// What the program did with the legacy page: collected during the run, written at exit as
// text (stderr) and/or JSON (-o FILE). Schema documented in man/vdsorun.1.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "vsyscall/page.h"

namespace emulator {

// Where in the program a call or read came from.
struct CodeSite {
  uint64_t address = 0;        // return address (calls) or instruction address (reads)
  std::string module;          // mapped file, or "[anon]" / "[stack]"
  uint64_t module_offset = 0;  // file offset of address in module
  std::string symbol;          // nearest ELF symbol + offset, filled at report time
  std::string instruction;     // the calling / reading instruction, disassembled
};

// What one call or read came to.
enum class Outcome : uint8_t {
  kEmulated,           // answered as the kernel's emulation does
  kNative,             // the page's own code ran (vsyscall=native)
  kSigsegv,            // SIGSEGV, as the mode's kernel gives
  kSigtrap,            // SIGTRAP (native: an int3 of the page)
  kSigill,             // SIGILL (native: bytes that do not decode)
  kEnosys,             // -ENOSYS: the program's own filter asked for a tracer it does not have
  kNativeNotEmulated,  // SIGSEGV: native execution of this offset is not emulated
  kReadEmulated,       // the load returned the page image
  kReadOnCopy,         // the load ran on a copy of the page
  kWriteFault,         // SIGSEGV for a write: every mode
  kReadNotEmulated,    // SIGSEGV: the read could not be emulated (SiteStats::reason)
};
// "emulated", "SIGSEGV", "read-emulated (executed on a copy)": the report's words.
std::string_view outcome_name(Outcome o);

// A call site rewritten to call the trampoline (call-site patching).
struct SitePatch {
  std::string form;             // the code recognised, e.g. "mov rax, 0x...; call rax"
  uint64_t after_stops = 0;     // stops the site made before it was patched
  uint64_t patched_calls = 0;   // calls made through the trampoline, without a stop
};

struct SiteStats {
  CodeSite site;
  uint64_t count = 0;
  std::map<Outcome, uint64_t> outcomes;
  std::string reason;  // why a read was not emulated (Outcome::kReadNotEmulated)
  std::optional<SitePatch> patch;
  std::string not_patched;  // why a patch was tried and not made
  // `vdsorun scan` of the module does not find this site (scan/site_check.h).
  bool scan_missed = false;
};

struct EntryStats {
  uint64_t calls = 0;
  uint64_t reads = 0;
  std::map<uint64_t, SiteStats> call_sites;  // by return address
};

struct ProcessReport {
  pid_t pid = 0;
  std::string executable;
  std::vector<std::string> argv0;  // executables, in exec order (one per image)
  std::map<vsyscall::Entry, EntryStats> entries;
  uint64_t other_calls = 0;                   // jumps into the page off the entries
  std::map<uint64_t, SiteStats> other_sites;  // by target address
  uint64_t reads = 0;
  std::map<uint64_t, SiteStats> read_sites;  // by instruction address
  std::string vdso;                          // how the vDSO/vvar was provided for this process
};

class Report {
 public:
  // One record per program image (exec); a fork starts a new record for the child.
  // The current image record of pid; created (empty executable) if there is none yet.
  ProcessReport& image(pid_t pid);
  bool has_image(pid_t pid) const { return current_.count(pid) != 0; }
  // Image records by index: stable for the whole run, unlike image(pid) after an exec.
  size_t image_index(pid_t pid) {
    image(pid);
    return current_.at(pid);
  }
  ProcessReport& image_at(size_t index) { return images_.at(index); }
  std::vector<ProcessReport>& images() { return images_; }
  void new_image(pid_t pid, const std::string& executable, const std::string& vdso);
  void set_run_info(std::string mode, std::string host_mode, std::string vdso_mode) {
    mode_ = std::move(mode);
    host_mode_ = std::move(host_mode);
    vdso_mode_ = std::move(vdso_mode);
  }
  void set_exit(std::string how) { exit_ = std::move(how); }
  // The tree's virtual clocks (--time, --offset, --rate, --freeze), when there are any.
  struct TimeInfo {
    std::string description;  // "REALTIME from 2038-01-19T03:13:57Z, every clock at rate 10"
    int64_t realtime_start_ns = 0;  // what CLOCK_REALTIME read when the program started
    std::string realtime_start;     // the same, ISO 8601 UTC
    int64_t offset_ns = 0;          // virtual minus real REALTIME at start
    double rate = 1.0;
    bool freeze = false;
  };
  void set_time(TimeInfo info) { time_ = std::move(info); }
  // vdsorun -p: which processes were attached and how it ended (one line of the report).
  void set_attach(std::string what) { attach_ = std::move(what); }
  bool empty() const;

  // Resolves symbols (reads the modules' ELF files), then writes.
  void resolve_symbols();
  void write_text(std::ostream& out) const;
  void write_json(std::ostream& out) const;

 private:
  std::vector<ProcessReport> images_;
  std::map<pid_t, size_t> current_;  // pid -> index of its current image
  std::string mode_, host_mode_, vdso_mode_, exit_, attach_;
  std::optional<TimeInfo> time_;
};

}  // namespace emulator
