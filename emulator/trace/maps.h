// /proc/PID/maps as values: parse once, then look addresses up.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emulator {

struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;  // "r-xp"
  uint64_t offset = 0;
  std::string path;  // file path, "[stack]", or empty
};

std::vector<MapEntry> parse_maps(std::string_view text);
// Reads and parses /proc/PID/maps; empty if the process is gone.
std::vector<MapEntry> read_maps(pid_t pid);
const MapEntry* find_mapping(const std::vector<MapEntry>& maps, uint64_t addr);

// Reads a whole (small) file, e.g. from /proc; nullopt if it cannot be opened.
std::optional<std::string> read_text_file(const std::string& path);

// The value of field `name` ("State", "Uid") in the text of a /proc/<pid>/status file: the
// rest of its line, leading blanks removed; nullopt if there is no such field.
std::optional<std::string> status_value(std::string_view status, std::string_view name);

// A numeric field of /proc/<pid>/status ("Tgid", "Threads", "Seccomp_filters"); pid 0 means
// this process. nullopt if the process or the field is gone.
std::optional<long> proc_status_field(pid_t pid, std::string_view name);

}  // namespace emulator
