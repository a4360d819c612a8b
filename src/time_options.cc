#include "src/time_options.h"

#include <time.h>

#include <cmath>
#include <limits>

namespace cli {
namespace {

constexpr int64_t kNs = 1000000000;
// 2262-04-11T23:47:16Z: the last second whose nanoseconds fit in int64_t.
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kNs;

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

// ".123456789" → nanoseconds (at most 9 digits).
bool fraction(std::string_view s, size_t& pos, int64_t& ns) {
  ns = 0;
  if (pos >= s.size() || (s[pos] != '.' && s[pos] != ',')) return true;
  ++pos;
  size_t n = 0;
  int64_t scale = kNs / 10;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (n == 9) return false;
    ns += (s[pos] - '0') * scale;
    scale /= 10;
    ++pos;
    ++n;
  }
  return n > 0;
}

}  // namespace

std::optional<int64_t> parse_instant(std::string_view s, std::string& error) {
  const std::string shown(s);
  if (!s.empty() && s[0] == '@') {
    size_t pos = 1;
    int64_t sec = 0;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (sec > kMaxSeconds / 10) {
        error = "'" + shown + "' is after 2262";
        return std::nullopt;
      }
      sec = sec * 10 + (s[pos] - '0');
      ++pos;
      ++n;
    }
    int64_t frac = 0;
    if (n == 0 || !fraction(s, pos, frac) || pos != s.size()) {
      error = "'" + shown + "' is not @SECONDS since the epoch (e.g. @2147483647)";
      return std::nullopt;
    }
    if (sec >= kMaxSeconds) {
      error = "'" + shown + "' is after 2262";
      return std::nullopt;
    }
    return sec * kNs + frac;
  }
  const std::string expected =
      "'" + shown + "' is not an ISO 8601 date and time with a zone (e.g. 2038-01-19T03:13:57Z)";
  struct tm tm {};
  size_t pos = 0;
  int year = 0, mon = 0, day = 0;
  if (!digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, mon) ||
      pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, day)) {
    error = expected;
    return std::nullopt;
  }
  int hour = 0, min = 0, sec = 0;
  int64_t frac = 0;
  int64_t zone_seconds = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') {
      error = expected;
      return std::nullopt;
    }
    ++pos;
    if (!digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, min)) {
      error = expected;
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, sec) || !fraction(s, pos, frac)) {
        error = expected;
        return std::nullopt;
      }
    }
    if (pos >= s.size()) {
      error = "'" + shown + "' has no zone: add Z for UTC or an offset such as +01:00";
      return std::nullopt;
    }
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      int zh = 0, zm = 0;
      if (!digits(s, pos, 2, zh)) {
        error = expected;
        return std::nullopt;
      }
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !digits(s, pos, 2, zm)) {
        error = expected;
        return std::nullopt;
      }
      if (zh > 23 || zm > 59) {
        error = "'" + shown + "' has a zone offset out of range";
        return std::nullopt;
      }
      zone_seconds = sign * (zh * 3600 + zm * 60);
    } else {
      error = expected;
      return std::nullopt;
    }
    if (pos != s.size()) {
      error = expected;
      return std::nullopt;
    }
  }
  // A leap second (:60) is the next second's start, as the kernel's clock shows it.
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    error = "'" + shown + "' is not a valid date and time";
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const time_t t = timegm(&tm);
  // timegm normalises 31 February into March: refuse days the month does not have.
  if (tm.tm_mday != day && sec != 60) {
    error = "'" + shown + "' is not a valid date";
    return std::nullopt;
  }
  const int64_t seconds = static_cast<int64_t>(t) - zone_seconds;
  if (seconds < 0) {
    error = "'" + shown + "' is before 1970, which CLOCK_REALTIME cannot show";
    return std::nullopt;
  }
  if (seconds >= kMaxSeconds) {
    error = "'" + shown + "' is after 2262";
    return std::nullopt;
  }
  return seconds * kNs + frac;
}

std::optional<int64_t> parse_duration(std::string_view s, std::string& error) {
  const std::string shown(s);
  const std::string expected = "'" + shown +
                               "' is not a duration such as +10y, -36h or +1d2h (units y w d h m "
                               "s ms us ns)";
  size_t pos = 0;
  int sign = 1;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) sign = s[pos++] == '-' ? -1 : 1;
  if (pos >= s.size()) {
    error = expected;
    return std::nullopt;
  }
  long double total = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || s[pos] == '.')) ++pos;
    if (pos == start) {
      error = expected;
      return std::nullopt;
    }
    const std::string number(s.substr(start, pos - start));
    if (number.find('.') != number.rfind('.') || number == ".") {
      error = expected;
      return std::nullopt;
    }
    const long double value = std::strtold(number.c_str(), nullptr);
    const size_t unit_start = pos;
    while (pos < s.size() && ((s[pos] >= 'a' && s[pos] <= 'z'))) ++pos;
    const std::string_view unit = s.substr(unit_start, pos - unit_start);
    long double scale;
    if (unit.empty() || unit == "s") {
      if (unit.empty() && pos != s.size()) {
        error = expected;
        return std::nullopt;
      }
      scale = 1e9L;
    } else if (unit == "ns") {
      scale = 1;
    } else if (unit == "us") {
      scale = 1e3L;
    } else if (unit == "ms") {
      scale = 1e6L;
    } else if (unit == "m") {
      scale = 60e9L;
    } else if (unit == "h") {
      scale = 3600e9L;
    } else if (unit == "d") {
      scale = 86400e9L;
    } else if (unit == "w") {
      scale = 7 * 86400e9L;
    } else if (unit == "y") {
      scale = 365 * 86400e9L;
    } else {
      error = expected;
      return std::nullopt;
    }
    total += value * scale;
    if (total > 9.2e18L) {
      error = "'" + shown + "' is longer than 292 years";
      return std::nullopt;
    }
  }
  return sign * static_cast<int64_t>(std::llround(static_cast<double>(total)));
}

std::optional<double> parse_rate(std::string_view s, double max, std::string& error) {
  const std::string shown(s);
  char* end = nullptr;
  const double r = std::strtod(shown.c_str(), &end);
  const bool plain = !shown.empty() && shown.find_first_not_of("0123456789.") == std::string::npos;
  if (!plain || end != shown.c_str() + shown.size() || !std::isfinite(r)) {
    error = "'" + shown + "' is not a rate (a number such as 10 or 0.5)";
    return std::nullopt;
  }
  if (r <= 0) {
    error = "a rate must be above 0 (--freeze stops the clock)";
    return std::nullopt;
  }
  if (r > max) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", max);
    error = "'" + shown + "' is faster than the largest rate, " + buf;
    return std::nullopt;
  }
  return r;
}

}  // namespace cli
