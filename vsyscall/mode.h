// The four `vsyscall=` modes a kernel can boot with, and what the host runs with.
#pragma once

#include <optional>
#include <string_view>

namespace vsyscall {

enum class Mode { kNone, kXonly, kEmulate, kNative };

std::optional<Mode> parse_mode(std::string_view s);
std::string_view mode_name(Mode m);

// Whether calls at the three entries work in this mode.
constexpr bool calls_work(Mode m) {
  return m != Mode::kNone;
}
// Whether data reads of the page return the page image.
constexpr bool page_readable(Mode m) {
  return m == Mode::kEmulate || m == Mode::kNative;
}

// What the host kernel itself does; decides how vdsorun catches calls and reads.
// (A native host would be a kernel <= 4.14 booted vsyscall=native; treated as emulate.)
enum class HostMode { kNone, kXonly, kEmulate };

std::string_view host_mode_name(HostMode m);

// Parses the [vsyscall] line (or its absence) of a /proc/PID/maps text.
HostMode host_mode_from_maps(std::string_view maps_text);

}  // namespace vsyscall
