// Diagnostic logging: one line per write(2) so lines from threads never interleave.
#pragma once

#include <cstdarg>
#include <optional>
#include <string_view>

namespace emulator {

enum class LogLevel { kQuiet = 0, kError = 1, kWarn = 2, kInfo = 3, kDebug = 4, kTrace = 5 };

std::optional<LogLevel> parse_log_level(std::string_view s);
void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) {
  return level <= log_level();
}

// printf-style; the line is prefixed "vdsorun: " and written to stderr in one write(2).
void log_line(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace emulator

#define VDSORUN_LOG(level, ...)                                       \
  do {                                                                \
    if (::emulator::log_enabled(::emulator::LogLevel::level))         \
      ::emulator::log_line(::emulator::LogLevel::level, __VA_ARGS__); \
  } while (0)
