#include <gtest/gtest.h>

#include "common/time.h"

using namespace recall;

TEST(Time, FormatsUtcIso8601) { EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z"); }

TEST(Time, ParsesTheFormsUsersType) {
  EXPECT_EQ(*parse_time("2026-11-21T09:30:00Z"), 1795253400);
  EXPECT_EQ(*parse_time("2026-11-21T11:30:00+02:00"), 1795253400);
  EXPECT_EQ(*parse_time("2026-11-21 09:30"), 1795253400);
  EXPECT_EQ(*parse_time("2026-11-21"), 1795219200);
  EXPECT_EQ(*parse_time("1795253400"), 1795253400);
  EXPECT_EQ(format_utc(*parse_time("2026-11-21T09:30:00.123Z")), "2026-11-21T09:30:00Z");
}

TEST(Time, RefusesGarbageWithAHint) {
  auto r = parse_time("yesterday");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  EXPECT_NE(r.error().message.find("ISO 8601"), std::string::npos);
  EXPECT_FALSE(parse_time("2026-13-01").ok());
  EXPECT_FALSE(parse_time("2026-11-21T25:00").ok());
}

TEST(Time, AtAcceptsLatest) { EXPECT_EQ(*parse_at("latest"), kLatest); }

// Regression (fuzz_restic_tree, fuzz_manifest): a year past 2262 overflowed the nanoseconds.
TEST(Time, NanosecondTimesOutsideTheirRangeAreRefused) {
  EXPECT_TRUE(parse_time_ns("2262-01-01T00:00:00Z").ok());
  EXPECT_FALSE(parse_time_ns("3978-05-05T10:00:00.123456789+02:00").ok());
  EXPECT_FALSE(parse_time_ns("9999-12-31T23:59:59Z").ok());
  EXPECT_FALSE(parse_time_ns("0001-01-01T00:00:00Z").ok());
  EXPECT_EQ(*parse_time_ns("1970-01-01T00:00:01.5Z"), 1'500'000'000);
}

// Regression (issue 24): impossible dates were taken for later ones, '' meant latest, and real
// dates outside the nanosecond range were refused as "not a time".
TEST(Time, ImpossibleDatesAreRefused) {
  for (const char* t : {"2025-02-30", "2025-02-29", "2026-04-31", "2026-06-31", "1900-02-29", "2026-00-10",
                        "2026-01-00", "2026-01-32", "2026-11-21T09:30:00+25:00"}) {
    auto r = parse_time(t);
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
    EXPECT_NE(r.error().message.find(t), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  EXPECT_NE(parse_time("2025-02-30").error().message.find("has 28 days"), std::string::npos);
  EXPECT_TRUE(parse_time("2024-02-29").ok());
  EXPECT_TRUE(parse_time("2000-02-29").ok());
}

TEST(Time, EmptyIsNotATime) {
  EXPECT_FALSE(parse_time("").ok());
  auto r = parse_at("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  EXPECT_NE(r.error().message.find("latest"), std::string::npos);
}

TEST(Time, EveryYearFrom0000To9999IsATime) {
  EXPECT_EQ(format_utc(*parse_time("1600-01-01")), "1600-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(*parse_time("9999-12-31T23:59:59Z")), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(*parse_time("0000-03-01")), "0000-03-01T00:00:00Z");
  EXPECT_EQ(*parse_at("1600-01-01"), *parse_time("1600-01-01"));
  EXPECT_EQ(*parse_time("1969-12-31T23:59:59.5Z"), -1);  // the second it falls in
  EXPECT_EQ(*parse_time("253402300799"), *parse_time("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_time("253402300800").ok());
  // Nanosecond times say their range instead of "not a time".
  auto r = parse_time_ns("1600-01-01");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("1677-09-22 to 2262-04-11"), std::string::npos) << r.error().message;
}
