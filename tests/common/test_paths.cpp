#include <gtest/gtest.h>

#include "common/paths.h"

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

// Regression (issue 24): a newline in a name printed raw forged a listing line, and a backslash
// printed as-is made "a\xff" (4 characters) look like the name holding byte 0xff.
TEST(Paths, DisplayIsOneLineAndUnambiguous) {
  EXPECT_EQ(escape_for_display("a\nb"), "a\\x0ab");
  EXPECT_EQ(escape_for_display("a\\xff"), "a\\\\xff");
  EXPECT_EQ(escape_for_display("a\xff"), "a\\xff");
  EXPECT_NE(escape_for_display("a\\xff"), escape_for_display("a\xff"));
  EXPECT_EQ(escape_for_display("\x1b[2Jx"), "\\x1b[2Jx");
  // Overlong forms and surrogates are not UTF-8; C1 and bidirectional controls are shown as bytes.
  EXPECT_EQ(escape_for_display("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(escape_for_display("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));
  EXPECT_EQ(escape_for_display("x\xe2\x80\xaetxt.exe"), "x\\xe2\\x80\\xaetxt.exe");
  EXPECT_EQ(escape_for_display("\xc2\x85"), "\\xc2\\x85");
  EXPECT_EQ(escape_for_display("\xe2\x82\xac"), "\xe2\x82\xac");  // the euro sign stays
}

TEST(Paths, OneLineKeepsEverythingButControls) {
  EXPECT_EQ(one_line("no such file 'a\\\\b'\nrecall: fake"), "no such file 'a\\\\b'\\x0arecall: fake");
  EXPECT_EQ(one_line("caf\xc3\xa9"), "caf\xc3\xa9");
}
