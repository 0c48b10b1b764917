// The manifest parser judges untrusted lines: every refusal names the line.
#include <gtest/gtest.h>

#include "importers/manifest.h"

using namespace recall;
using namespace recall::import;

namespace {

TEST(ManifestLine, EntryFieldsAreReadExactly) {
  auto l = parse_manifest_line(
      R"({"rec":"entry","set":"s","path":"/a/b","type":"file","size":18446744073709551,"mode":420,)"
      R"("uid":4294967295,"mtime":"2024-05-01T12:00:00.000000001+02:00","hashes":{"sha256":")" +
          std::string(64, 'a') +
          R"("},"acl_text":"user::rw-,user:alice:r--,group::r--,mask::r--,other::---",)"
          R"("unknown_field":[1,2]})",
      7);
  ASSERT_TRUE(l.ok()) << l.error().message;
  const auto& e = l->entry;
  EXPECT_EQ(e.parts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(e.meta.size, 18446744073709551ull);
  EXPECT_EQ(e.meta.uid, 4294967295u);
  EXPECT_EQ(e.meta.mtime_ns, 1714557600'000000001ll);
  ASSERT_TRUE(e.sha256.has_value());
  ASSERT_EQ(e.meta.acl.size(), 5u);
  EXPECT_EQ(e.meta.acl[1].name, "alice");
  EXPECT_EQ(e.meta.acl[1].perm, 4);
}

TEST(ManifestLine, RefusalsNameTheLine) {
  const char* bad[] = {
      R"({"rec":"entry","set":"s","path":"/a","type":"file","size":1.0})",
      R"({"rec":"entry","set":"s","path":"/a","type":"file","size":-3})",
      R"({"rec":"entry","set":"s","path":"/a","type":"file","size":1,"mode":65535})",
      R"({"rec":"entry","set":"s","path":"/a","type":"door","size":1})",
      R"({"rec":"entry","set":"s","path":"/a/./b","type":"file","size":1})",
      R"({"rec":"entry","set":"s","path":"/a/","type":"file","size":1})",
      R"({"rec":"entry","set":"s","path":"/a","path_b64":"YQ==","type":"file","size":1})",
      R"({"rec":"entry","set":"s","path":"/l","type":"symlink","size":0})",
      R"({"rec":"set","set":"s","host":"h","point_time":"yesterday"})",
      R"({"rec":"set","set":"s","host":"h","point_time":"2024-05-01T00:00:00Z","kind":"incremental"})",
      R"({"rec":"header","format":"recall-manifest","version":2})",
      R"([1,2,3])",
      R"({"rec":"entry","set":"s","path":{"x":1},"type":"file","size":1})",
  };
  for (const char* text : bad) {
    auto l = parse_manifest_line(text, 42);
    ASSERT_FALSE(l.ok()) << "accepted: " << text;
    EXPECT_EQ(l.error().message.rfind("line 42: ", 0), 0u) << l.error().message;
  }
}

TEST(ManifestBuilder, ChecksThatNeedTheWholeFile) {
  ManifestBuilder b;
  ASSERT_TRUE(b.add_line(R"({"rec":"header","format":"recall-manifest","version":1})").ok());
  ASSERT_TRUE(b.add_line(R"({"rec":"set","set":"s1","host":"h","point_time":"2024-05-02T00:00:00Z"})").ok());
  EXPECT_FALSE(b.add_line(R"({"rec":"set","set":"s1","host":"h","point_time":"2024-05-03T00:00:00Z"})").ok());
  EXPECT_FALSE(b.add_line(R"({"rec":"set","set":"s2","host":"h","point_time":"2024-05-01T00:00:00Z",)"
                          R"("kind":"incremental","parent":"s1"})")
                   .ok());  // older than its parent
  EXPECT_FALSE(b.add_line(R"({"rec":"entry","set":"nope","path":"/a","type":"dir","size":0})").ok());
  ASSERT_TRUE(b.add_line(R"({"rec":"entry","set":"s1","path":"/a","type":"dir","size":0})").ok());
  ASSERT_TRUE(b.add_line(R"({"rec":"entry","set":"s1","path":"/a","type":"dir","size":0})").ok());
  auto m = b.finish();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("listed twice"), std::string::npos) << m.error().message;
}

}  // namespace
