#include "common/time.h"

#include <gtest/gtest.h>

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
