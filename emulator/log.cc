// Logging sink: formats into a stack buffer and writes it with one write(2).
#include "emulator/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace emulator {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
}

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "quiet" || s == "0") return LogLevel::kQuiet;
  if (s == "error" || s == "1") return LogLevel::kError;
  if (s == "warn" || s == "warning" || s == "2") return LogLevel::kWarn;
  if (s == "info" || s == "3") return LogLevel::kInfo;
  if (s == "debug" || s == "4") return LogLevel::kDebug;
  if (s == "trace" || s == "5") return LogLevel::kTrace;
  return std::nullopt;
}

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}
LogLevel log_level() {
  return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

void log_line(LogLevel, const char* fmt, ...) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "vdsorun: ");
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) m = 0;
  size_t len = static_cast<size_t>(n) + static_cast<size_t>(m);
  if (len > sizeof buf - 2) len = sizeof buf - 2;
  buf[len++] = '\n';
  ssize_t ignored = ::write(STDERR_FILENO, buf, len);
  (void)ignored;
}

}  // namespace emulator
