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
// Every real date of the years 0000 to 9999 is accepted; an impossible one (2025-02-30), an
// empty text or anything else is refused with one line naming it.
Result<UnixTime> parse_time(std::string_view text);
// The same, to the nanosecond (RFC 3339 fractions of up to 9 digits; finer ones are dropped).
// Nanoseconds since 1970 fit in 64 bits from 1677-09-22 to 2262-04-11 only: times outside are
// refused, saying that range.
Result<std::int64_t> parse_time_ns(std::string_view text);
UnixTime now_utc();

// "latest", "now" or a time: what `--at` accepts; kLatest stands for "latest". Empty is refused.
inline constexpr UnixTime kLatest = INT64_MAX;
Result<UnixTime> parse_at(std::string_view text);

// An age or interval: "90s", "15m", "12h", "30d", "2w" (or a plain number of seconds).
Result<std::int64_t> parse_duration(std::string_view text);

}  // namespace recall
