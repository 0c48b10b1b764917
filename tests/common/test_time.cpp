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
