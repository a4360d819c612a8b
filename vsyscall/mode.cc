// Mode names and host-mode detection from /proc/self/maps.
#include "vsyscall/mode.h"

#include <string>

namespace vsyscall {

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "none") return Mode::kNone;
  if (s == "xonly") return Mode::kXonly;
  if (s == "emulate") return Mode::kEmulate;
  if (s == "native") return Mode::kNative;
  return std::nullopt;
}

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::kNone:
      return "none";
    case Mode::kXonly:
      return "xonly";
    case Mode::kEmulate:
      return "emulate";
    case Mode::kNative:
      return "native";
  }
  return "?";
}

std::string_view host_mode_name(HostMode m) {
  switch (m) {
    case HostMode::kNone:
      return "none";
    case HostMode::kXonly:
      return "xonly";
    case HostMode::kEmulate:
      return "emulate";
  }
  return "?";
}

HostMode host_mode_from_maps(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // The kernel's own line: its range starts at the page, its name is the last field (a
    // mapped file whose name merely contains "[vsyscall]" is not it).
    if (line.rfind("ffffffffff600000-", 0) != 0) continue;
    const std::string_view tag = "[vsyscall]";
    if (line.size() < tag.size() || line.substr(line.size() - tag.size()) != tag) continue;
    // "ffffffffff600000-ffffffffff601000 --xp ..." : the permissions are the second field.
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp + 4 >= line.size()) return HostMode::kXonly;
    return line[sp + 1] == 'r' ? HostMode::kEmulate : HostMode::kXonly;
  }
  return HostMode::kNone;
}

}  // namespace vsyscall
