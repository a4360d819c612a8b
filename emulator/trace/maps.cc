// Parser for the /proc/PID/maps line format (fs/proc/task_mmu.c show_map_vma()).
#include "emulator/trace/maps.h"

#include <cstdlib>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "emulator/trace/unique_fd.h"

namespace emulator {
namespace {

bool parse_hex(std::string_view s, uint64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string_view next_field(std::string_view& line) {
  size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(b);
  size_t e = line.find(' ');
  std::string_view f = line.substr(0, e);
  line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  return f;
}

}  // namespace

std::vector<MapEntry> parse_maps(std::string_view text) {
  std::vector<MapEntry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::string_view range = next_field(line);
    std::string_view perms = next_field(line);
    std::string_view offset = next_field(line);
    next_field(line);  // dev
    next_field(line);  // inode
    size_t dash = range.find('-');
    MapEntry e;
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), e.start) ||
        !parse_hex(range.substr(dash + 1), e.end) || !parse_hex(offset, e.offset))
      continue;
    e.perms = std::string(perms);
    size_t p = line.find_first_not_of(' ');
    if (p != std::string_view::npos) e.path = std::string(line.substr(p));
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::string> read_text_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  // The buffer is on the heap: callers run on small stacks (a program's `ulimit -s 16`
  // applies to vdsorun's main thread too).
  std::string s;
  size_t used = 0;
  while (true) {
    if (s.size() - used < 4096) s.resize(std::max<size_t>(s.size() * 2, 16384));
    ssize_t n = ::read(fd.get(), s.data() + used, s.size() - used);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  s.resize(used);
  return s;
}

std::vector<MapEntry> read_maps(pid_t pid) {
  auto text = read_text_file("/proc/" + std::to_string(pid) + "/maps");
  if (!text) return {};
  return parse_maps(*text);
}

const MapEntry* find_mapping(const std::vector<MapEntry>& maps, uint64_t addr) {
  for (const MapEntry& e : maps) {
    if (addr >= e.start && addr < e.end) return &e;
  }
  return nullptr;
}

std::optional<std::string> status_value(std::string_view status, std::string_view name) {
  // Appends, not `"\n" + std::string(name) + ...`: that chain trips GCC 12's -Wrestrict false
  // positive (GCC bug 105651) in release builds.
  std::string key = "\n";
  key.append(name).append(":");
  size_t p;
  if (status.substr(0, key.size() - 1) == std::string_view(key).substr(1)) {
    p = key.size() - 1;  // the first line
  } else {
    p = status.find(key);
    if (p == std::string_view::npos) return std::nullopt;
    p += key.size();
  }
  const size_t end = std::min(status.find('\n', p), status.size());
  std::string_view v = status.substr(p, end - p);
  const size_t first = v.find_first_not_of(" \t");
  return std::string(first == std::string_view::npos ? std::string_view() : v.substr(first));
}

std::optional<long> proc_status_field(pid_t pid, std::string_view name) {
  const auto status =
      read_text_file(pid == 0 ? "/proc/self/status" : "/proc/" + std::to_string(pid) + "/status");
  if (!status) return std::nullopt;
  const auto value = status_value(*status, name);
  if (!value) return std::nullopt;
  return std::strtol(value->c_str(), nullptr, 10);
}

}  // namespace emulator
