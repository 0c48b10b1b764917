// Points are named by UTC seconds; every time on the wire is ISO 8601 ("2026-11-21T09:30:00Z").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace recall {

// Seconds since the Unix epoch, UTC.
using UnixTime = std::int64_t;

// "2026-11-21T09:30:00Z"
std::string format_utc(UnixTime t);
// Accepts "2026-11-21T09:30:00Z", "...+02:00", "2026-11-21T09:30Z", "2026-11-21 09:30:00",
// "2026-11-21" (midnight UTC) and a plain integer of Unix seconds. A time without a zone is UTC.
Result<UnixTime> parse_time(std::string_view text);
// The same, to the nanosecond (RFC 3339 fractions of up to 9 digits; finer ones are dropped).
Result<std::int64_t> parse_time_ns(std::string_view text);
UnixTime now_utc();

// "latest" or a time: what `--at` accepts. nullopt-like sentinel kLatest for "latest".
inline constexpr UnixTime kLatest = INT64_MAX;
Result<UnixTime> parse_at(std::string_view text);

// An age or interval: "90s", "15m", "12h", "30d", "2w" (or a plain number of seconds).
Result<std::int64_t> parse_duration(std::string_view text);

}  // namespace recall
