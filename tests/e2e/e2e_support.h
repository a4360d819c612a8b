// What the end-to-end tests share: where vdsorun, the probe programs and the scratch directory
// are; running a program with and without vdsorun; parsing the probes' `kind key=value` lines;
// installing a Debian package a test needs; and the tolerances every clock check uses.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../integration/json.h"
#include "../integration/process.h"

namespace e2e {

using integration::RunResult;

// $VDSORUN: the vdsorun binary under test.
std::string vdsorun_path();
// $E2E_PROGRAMS: the build directory of tests/e2e (the probes meson built).
std::string programs_dir();
// $E2E_SOURCE: tests/e2e in the source tree (sources built at test time).
std::string source_dir();
// $E2E_WORK: scratch space in the build tree for what tests build at run time; created.
std::string work_dir();
// programs_dir() + "/" + name.
std::string program(const std::string& name);

// How a probe is run: directly, or under vdsorun with --vdso=MODE.
enum class Vdso { kDirect, kInject, kHost, kNone };
const char* vdso_name(Vdso v);

struct RunSpec {
  Vdso vdso = Vdso::kInject;
  std::vector<std::string> extra_options;  // more vdsorun options (e.g. --vsyscall=xonly)
  // Run through after_fast_path so that the program starts once the injected clocks are live.
  bool after_fast_path = false;
  int timeout_seconds = 60;
  // Ask vdsorun for its JSON report (-o FILE in the work dir), parsed into Outcome::report.
  bool report = true;
};

struct Outcome {
  RunResult result;
  std::optional<integration::JsonValue> report;  // vdsorun's -o report, when under vdsorun
  std::string command;                           // for messages
};

Outcome run(const std::vector<std::string>& argv, const RunSpec& spec);

// One output line `kind key=value key=value ...`; the last key's value runs to the end of the
// line (mapping names hold spaces).
struct Record {
  std::string kind;
  std::map<std::string, std::string> fields;
  std::string line;

  const std::string& at(const std::string& key) const;  // "" when absent
  int64_t num(const std::string& key) const;            // 0 when absent or not a number
};
std::vector<Record> parse_records(const std::string& out);
std::vector<Record> records_of(const std::vector<Record>& all, const std::string& kind);
// The first record of `kind` that has `key` (equal to `value` unless that is empty), or nullptr.
const Record* find_record(const std::vector<Record>& all, const std::string& kind,
                          const std::string& key = "", const std::string& value = "");

// Mapping names as /proc/PID/maps shows them.
bool is_injected_vdso(const std::string& mapping);  // "/memfd:vdsorun-vdso (deleted)"
bool is_kernel_vdso(const std::string& mapping);    // "[vdso]"

// The vdso_mapping note of every process in a vdsorun report.
std::vector<std::string> report_vdso_notes(const integration::JsonValue& report);

// Installs Debian package `package` with apt-get unless `present()` already holds; returns
// nullopt when present() holds afterwards, else why not (apt-get's last lines).
std::optional<std::string> ensure_package(const std::string& package,
                                          const std::function<bool()>& present);

// An exclusive flock on work_dir()/NAME.lock for the scope: two meson tests running at once
// build or extract the same files one after the other.
class WorkLock {
 public:
  explicit WorkLock(const std::string& name);
  ~WorkLock();
  WorkLock(const WorkLock&) = delete;
  WorkLock& operator=(const WorkLock&) = delete;

 private:
  int fd_ = -1;
};

bool file_exists(const std::string& path);

// `source` (in source_dir()) built static with musl-gcc into work_dir()/NAME, installing
// musl-tools if needed; "" and *why_not if that fails. Built once per work dir.
std::string build_with_musl(const std::string& source, const std::string& name,
                            std::string* why_not);
// The stdlib-only Go module in source_dir()/DIR built static (CGO_ENABLED=0, no network) into
// work_dir()/NAME with the Debian toolchain, installing golang-go if needed; "" and *why_not
// if that fails.
std::string build_go(const std::string& dir, const std::string& name, std::string* why_not);

// --- tolerances ---

// Hres clocks against a bracket of raw syscalls. The timekeeper aims at 1 us (tests/vdso
// asserts that in isolation); 20 us leaves room for a loaded 2-core machine and still catches
// a wrong offset, a wrong rate or a stale page, which are off by milliseconds or more.
inline constexpr int64_t kFineToleranceNs = 20000;

// The kernel's coarse clock tick (clock_getres(CLOCK_MONOTONIC_COARSE)).
int64_t coarse_tick_ns();

// Whether the host lets vdsorun's timekeeper run the fast path at all (an invariant TSC and
// the tsc clocksource); else the reason why not.
std::optional<std::string> fast_path_impossible_reason();

}  // namespace e2e
