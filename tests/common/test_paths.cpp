#include "common/paths.h"

#include <gtest/gtest.h>

using namespace recall;

TEST(Paths, SplitsAndJoins) {
  auto parts = split_point_path("/srv//data/x");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(*parts, (std::vector<std::string>{"srv", "data", "x"}));
  EXPECT_EQ(join_point_path(*parts), "/srv/data/x");
  EXPECT_EQ(join_point_path({}), "/");
  EXPECT_TRUE(split_point_path("/")->empty());
}

TEST(Paths, RefusesHostileInput) {
  EXPECT_FALSE(split_point_path("relative/x").ok());
  EXPECT_FALSE(split_point_path("/a/../etc").ok());
  EXPECT_FALSE(split_point_path("/a/./b").ok());
  EXPECT_FALSE(split_point_path(std::string("/a\0b", 4)).ok());
  EXPECT_FALSE(split_point_path("/" + std::string(300, 'x')).ok());
  EXPECT_FALSE(is_safe_name(".."));
  EXPECT_FALSE(is_safe_name("a/b"));
  EXPECT_TRUE(is_safe_name("report.odt"));
}

TEST(Paths, EscapesForDisplay) {
  EXPECT_EQ(escape_for_display("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escape_for_display("bad\xff\n"), "bad\\xff\\x0a");
}
