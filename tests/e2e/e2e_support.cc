// Paths, runs under vdsorun, probe output parsing, package installs and work-dir locks for the
// end-to-end tests.
#include "e2e_support.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "emulator/clock/clock_choice.h"
#include "emulator/clock/timekeeper_probe.h"

namespace e2e {
namespace {

std::string env_or_throw(const char* name) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string("$") + name + " is not set (run through meson test)");
  }
  return v;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string last_lines(const std::string& text, size_t count) {
  auto lines = integration::split_lines(text);
  std::string out;
  for (size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

}  // namespace

std::string vdsorun_path() {
  return env_or_throw("VDSORUN");
}

std::string programs_dir() {
  return env_or_throw("E2E_PROGRAMS");
}

std::string source_dir() {
  return env_or_throw("E2E_SOURCE");
}

std::string work_dir() {
  const std::string dir = env_or_throw("E2E_WORK");
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::string program(const std::string& name) {
  return programs_dir() + "/" + name;
}

const char* vdso_name(Vdso v) {
  switch (v) {
    case Vdso::kDirect:
      return "direct";
    case Vdso::kInject:
      return "inject";
    case Vdso::kHost:
      return "host";
    case Vdso::kNone:
      return "none";
  }
  return "?";
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

Outcome run(const std::vector<std::string>& argv, const RunSpec& spec) {
  std::vector<std::string> cmd;
  std::string report_path;
  if (spec.vdso != Vdso::kDirect) {
    cmd = {vdsorun_path(), "-q", std::string("--vdso=") + vdso_name(spec.vdso)};
    if (spec.report) {
      std::string path = work_dir() + "/report-XXXXXX";
      const int fd = mkstemp(path.data());
      if (fd < 0) throw std::runtime_error("mkstemp in " + work_dir() + " failed");
      close(fd);
      report_path = path;
      cmd.insert(cmd.end(), {"-o", report_path});
    }
    cmd.insert(cmd.end(), spec.extra_options.begin(), spec.extra_options.end());
    cmd.push_back("--");
  }
  // With --vdso=none there is no fast path to wait for.
  if (spec.after_fast_path && spec.vdso != Vdso::kNone) cmd.push_back(program("after_fast_path"));
  cmd.insert(cmd.end(), argv.begin(), argv.end());

  Outcome r;
  for (const auto& a : cmd) r.command += (r.command.empty() ? "" : " ") + a;
  integration::RunOptions opts;
  opts.timeout_seconds = spec.timeout_seconds;
  r.result = integration::run_command(cmd, opts);
  if (!report_path.empty()) {
    std::string error;
    r.report = integration::parse_json(read_file(report_path), &error);
    unlink(report_path.c_str());
  }
  return r;
}

const std::string& Record::at(const std::string& key) const {
  static const std::string kEmpty;
  auto it = fields.find(key);
  return it == fields.end() ? kEmpty : it->second;
}

int64_t Record::num(const std::string& key) const {
  const std::string& v = at(key);
  if (v.empty()) return 0;
  char* end = nullptr;
  const long long n = strtoll(v.c_str(), &end, 0);
  return end != nullptr && *end == '\0' ? n : 0;
}

std::vector<Record> parse_records(const std::string& out) {
  std::vector<Record> records;
  for (const std::string& line : integration::split_lines(out)) {
    Record r;
    r.line = line;
    size_t pos = line.find(' ');
    r.kind = line.substr(0, pos);
    while (pos != std::string::npos) {
      const size_t key_start = pos + 1;
      const size_t eq = line.find('=', key_start);
      if (eq == std::string::npos) break;
      const std::string key = line.substr(key_start, eq - key_start);
      // The value ends at the next " key=" — or runs to the end of the line.
      size_t next = eq + 1;
      size_t value_end = std::string::npos;
      while ((next = line.find(' ', next)) != std::string::npos) {
        const size_t next_eq = line.find('=', next + 1);
        const size_t next_space = line.find(' ', next + 1);
        if (next_eq != std::string::npos &&
            (next_space == std::string::npos || next_eq < next_space)) {
          value_end = next;
          break;
        }
        ++next;
      }
      r.fields[key] = line.substr(
          eq + 1, value_end == std::string::npos ? std::string::npos : value_end - eq - 1);
      pos = value_end;
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<Record> records_of(const std::vector<Record>& all, const std::string& kind) {
  std::vector<Record> out;
  for (const auto& r : all) {
    if (r.kind == kind) out.push_back(r);
  }
  return out;
}

const Record* find_record(const std::vector<Record>& all, const std::string& kind,
                          const std::string& key, const std::string& value) {
  for (const auto& r : all) {
    if (r.kind != kind) continue;
    if (key.empty()) return &r;
    const auto it = r.fields.find(key);
    if (it != r.fields.end() && (value.empty() || it->second == value)) return &r;
  }
  return nullptr;
}

bool is_injected_vdso(const std::string& mapping) {
  return mapping.rfind("/memfd:vdsorun-vdso", 0) == 0;
}

bool is_kernel_vdso(const std::string& mapping) {
  return mapping == "[vdso]";
}

std::vector<std::string> report_vdso_notes(const integration::JsonValue& report) {
  std::vector<std::string> notes;
  const integration::JsonValue* processes = report.get("processes");
  if (processes == nullptr) return notes;
  for (const auto& p : processes->items) {
    const integration::JsonValue* note = p.get("vdso_mapping");
    notes.push_back(note != nullptr ? note->string : "");
  }
  return notes;
}

std::optional<std::string> ensure_package(const std::string& package,
                                          const std::function<bool()>& present) {
  if (present()) return std::nullopt;
  WorkLock lock("apt");
  if (present()) return std::nullopt;
  std::vector<std::string> env = integration::current_environment();
  env.push_back("DEBIAN_FRONTEND=noninteractive");
  integration::RunOptions opts;
  opts.env = env;
  opts.timeout_seconds = 600;
  std::fprintf(stderr, "e2e: installing %s with apt-get\n", package.c_str());
  auto r = integration::run_command({"apt-get", "install", "-y", "-q", "--no-install-recommends",
                                     "-o", "DPkg::Lock::Timeout=300", package},
                                    opts);
  if (present()) return std::nullopt;
  if (!r.exited || r.exit_code != 0) {
    // The package lists may be missing on a fresh machine.
    integration::run_command({"apt-get", "update", "-q"}, opts);
    r = integration::run_command({"apt-get", "install", "-y", "-q", "--no-install-recommends", "-o",
                                  "DPkg::Lock::Timeout=300", package},
                                 opts);
    if (present()) return std::nullopt;
  }
  return "apt-get install " + package + " did not make it available (" + r.status_text() +
         "): " + last_lines(r.err + r.out, 5);
}

WorkLock::WorkLock(const std::string& name) {
  const std::string path = work_dir() + "/" + name + ".lock";
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 || flock(fd_, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + path);
}

WorkLock::~WorkLock() {
  if (fd_ >= 0) close(fd_);
}

int64_t coarse_tick_ns() {
  timespec res;
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return 10000000;
  return static_cast<int64_t>(res.tv_sec) * 1000000000 + res.tv_nsec;
}

std::optional<std::string> fast_path_impossible_reason() {
  const emulator::ClockChoice c = choose_clock(emulator::ClockFacts{
      emulator::current_clocksource(), emulator::cpu_flags(), getauxval(AT_SYSINFO_EHDR) != 0});
  if (c.fast) return std::nullopt;
  return c.why;
}

std::string build_with_musl(const std::string& source, const std::string& name,
                            std::string* why_not) {
  const std::string out = work_dir() + "/" + name;
  WorkLock lock("musl");
  struct stat src {}, bin {};
  if (stat(out.c_str(), &bin) == 0 && stat((source_dir() + "/" + source).c_str(), &src) == 0 &&
      bin.st_mtime >= src.st_mtime)
    return out;  // built from this source already
  auto have_musl_gcc = [] {
    auto r = integration::run_command({"sh", "-c", "command -v musl-gcc"});
    return r.exited && r.exit_code == 0;
  };
  if (auto why = ensure_package("musl-tools", have_musl_gcc)) {
    *why_not = "musl-gcc is missing and could not be installed: " + *why;
    return "";
  }
  auto r = integration::run_command({"musl-gcc", "-static", "-O2", "-std=gnu11", "-Wall", "-o", out,
                                     source_dir() + "/" + source});
  if (!r.exited || r.exit_code != 0) {
    *why_not = "musl-gcc could not build " + source + ": " + r.describe();
    return "";
  }
  return out;
}

std::string build_go(const std::string& dir, const std::string& name, std::string* why_not) {
  auto have_go = [] {
    auto r = integration::run_command({"sh", "-c", "command -v go"});
    return r.exited && r.exit_code == 0;
  };
  if (auto why = ensure_package("golang-go", have_go)) {
    *why_not = "the Go toolchain is missing and could not be installed: " + *why;
    return "";
  }
  const std::string work = work_dir();
  const std::string out = work + "/" + name;
  WorkLock lock("go");
  // Everything Go writes stays in the build tree; a stdlib-only module needs no network.
  std::vector<std::string> env = integration::current_environment();
  for (const char* kv : {"GOFLAGS=-mod=mod", "CGO_ENABLED=0", "GOPROXY=off", "GOTOOLCHAIN=local",
                         "GO111MODULE=on"}) {
    env.emplace_back(kv);
  }
  env.push_back("GOCACHE=" + work + "/go-cache");
  env.push_back("GOPATH=" + work + "/go-path");
  env.push_back("HOME=" + work);
  integration::RunOptions opts;
  opts.cwd = source_dir() + "/" + dir;
  opts.env = env;
  opts.timeout_seconds = 300;
  auto r = integration::run_command({"go", "build", "-o", out, "."}, opts);
  // Go >= 1.23 refuses go:linkname pulls of runtime internals unless told otherwise.
  if ((!r.exited || r.exit_code != 0) && r.err.find("invalid reference") != std::string::npos) {
    r = integration::run_command({"go", "build", "-ldflags=-checklinkname=0", "-o", out, "."},
                                 opts);
  }
  if (!r.exited || r.exit_code != 0) {
    *why_not = "go build failed: " + r.describe();
    return "";
  }
  return out;
}

}  // namespace e2e
