// The values of --time, --offset, --rate and --freeze: instants, durations and rates as
// people write them. Each parser returns nullopt and says why in `error`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cli {

// An instant, in nanoseconds since the epoch: ISO 8601 with a zone
// ("2038-01-19T03:13:57Z", "2026-03-29T01:30:00+01:00", fractions of a second allowed, a space
// for the T), a bare date ("2038-01-19", midnight UTC), or "@SECONDS" since the epoch
// ("@2147483647", "@1e9" not accepted; fractions allowed). From 1970 to 2262.
std::optional<int64_t> parse_instant(std::string_view text, std::string& error);

// A signed duration in nanoseconds: an optional sign, then one or more NUMBER UNIT groups
// ("+10y", "-36h", "+1d2h", "90s", "1.5h"); units y (365 days), w, d, h, m, s, ms, us, ns; a
// bare number is seconds.
std::optional<int64_t> parse_duration(std::string_view text, std::string& error);

// A rate: a decimal number above 0 and at most `max` ("10", "0.5", "2.5").
std::optional<double> parse_rate(std::string_view text, double max, std::string& error);

}  // namespace cli
