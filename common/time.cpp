#include "common/time.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace recall {

std::string format_utc(UnixTime t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];  // years before 1000 keep four digits, as ISO 8601 writes them
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900LL, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

UnixTime now_utc() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool take_int(std::string_view& s, std::size_t digits, int& out) {
  if (s.size() < digits) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + digits, out);
  if (ec != std::errc() || p != s.data() + digits) return false;
  s.remove_prefix(digits);
  return true;
}

bool take_char(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

namespace {

bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int y, int m) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

// A time split into whole seconds and the nanoseconds of a fraction (0..999,999,999).
struct ParsedTime {
  std::int64_t secs = 0;
  std::int64_t nanos = 0;
};

Error not_a_time(std::string_view text, const std::string& why) {
  return make_error(ErrorKind::Invalid, "'" + std::string(text) + "' is not a time" + why +
                                            "; use ISO 8601 like 2026-11-21T09:30:00Z");
}

// Every date of years 0000 to 9999 (proleptic Gregorian), checked day by day, or an integer
// of Unix seconds (9 digits or more, so that a year is never taken for one).
Result<ParsedTime> parse_civil(std::string_view text) {
  auto bad = [&](const std::string& why = {}) { return not_a_time(text, why); };
  if (text.empty()) return bad(" (it is empty)");
  std::string_view s = text;
  if (s.find_first_not_of("0123456789") == std::string_view::npos && s.size() >= 9) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    constexpr std::int64_t kFirst = -62167219200, kLast = 253402300799;  // 0000-01-01, 9999-12-31
    if (ec != std::errc() || p != s.data() + s.size() || v < kFirst || v > kLast)
      return bad(" (Unix seconds must fall in the years 0000 to 9999)");
    return ParsedTime{v, 0};
  }
  int y, mo, d, h = 0, mi = 0, sec = 0;
  std::int64_t nanos = 0;
  if (!take_int(s, 4, y) || !take_char(s, '-') || !take_int(s, 2, mo) || !take_char(s, '-') ||
      !take_int(s, 2, d))
    return bad();
  if (!s.empty() && (s.front() == 'T' || s.front() == 't' || s.front() == ' ')) {
    s.remove_prefix(1);
    if (!take_int(s, 2, h) || !take_char(s, ':') || !take_int(s, 2, mi)) return bad();
    if (take_char(s, ':') && !take_int(s, 2, sec)) return bad();
    if (take_char(s, '.')) {  // fractional seconds: nanoseconds kept, finer digits dropped
      std::int64_t scale = 100'000'000;
      if (s.empty() || s.front() < '0' || s.front() > '9') return bad();
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
        nanos += (s.front() - '0') * scale;
        scale /= 10;
        s.remove_prefix(1);
      }
    }
  }
  int offset = 0;
  if (take_char(s, 'Z') || take_char(s, 'z')) {
  } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om = 0;
    if (!take_int(s, 2, oh)) return bad();
    take_char(s, ':');
    if (!s.empty() && !take_int(s, 2, om)) return bad();
    if (oh > 23 || om > 59) return bad(" (no such zone offset)");
    offset = sign * (oh * 3600 + om * 60);
  }
  if (!s.empty()) return bad();
  if (mo < 1 || mo > 12) return bad(" (no month " + std::to_string(mo) + ")");
  if (d < 1 || static_cast<unsigned>(d) > days_in_month(y, mo))
    return bad(" (" + std::string(text.substr(0, 7)) + " has " + std::to_string(days_in_month(y, mo)) +
               " days)");
  if (h > 23 || mi > 59 || sec > 60) return bad(" (no such time of day)");
  return ParsedTime{days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                        h * 3600 + mi * 60 + sec - offset,
                    nanos};
}

}  // namespace

Result<UnixTime> parse_time(std::string_view text) {
  auto t = parse_civil(text);
  if (!t.ok()) return t.error();
  return t->secs;  // a fraction names the second it falls in
}

Result<std::int64_t> parse_time_ns(std::string_view text) {
  auto t = parse_civil(text);
  if (!t.ok()) return t.error();
  // Nanoseconds since 1970 fit in 64 bits from 1677 to 2262 only (found by fuzz_restic_tree).
  if (t->secs >= INT64_MAX / 1'000'000'000 || t->secs <= INT64_MIN / 1'000'000'000)
    return make_error(ErrorKind::Invalid, "'" + std::string(text) +
                                              "' is out of range: times to the nanosecond go from "
                                              "1677-09-22 to 2262-04-11");
  return t->secs * 1'000'000'000 + t->nanos;
}

Result<UnixTime> parse_at(std::string_view text) {
  if (text == "latest") return kLatest;
  if (text == "now") return now_utc();
  if (text.empty()) return not_a_time(text, " (it is empty; give 'latest' for the newest point)");
  return parse_time(text);
}

Result<std::int64_t> parse_duration(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorKind::Invalid,
                      "'" + std::string(text) + "' is not a duration (like 90s, 15m, 12h, 30d or 2w)");
  };
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || v < 0) return bad();
  std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::int64_t mul = 0;
  if (unit.empty() || unit == "s") mul = 1;
  if (unit == "m" || unit == "min") mul = 60;
  if (unit == "h") mul = 3600;
  if (unit == "d") mul = 86400;
  if (unit == "w") mul = 7 * 86400;
  if (mul == 0 || v > INT64_MAX / mul) return bad();
  return v * mul;
}

}  // namespace recall
