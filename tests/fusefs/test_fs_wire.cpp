#include <gtest/gtest.h>

#include "catalogd/http/fs_wire.h"

namespace recall::fswire {
namespace {

Entry sample(std::string name) {
  Entry e;
  e.name = std::move(name);
  e.node_id = 1234567890123;
  e.version_id = 42;
  e.link_node = 7;
  e.type = 'l';
  e.mode = 04755;
  e.uid = 0xFFFFFFFFu;
  e.gid = 1001;
  e.size = 1ull << 40;
  e.nlink = 3;
  e.rdev = 0x0801;
  e.mtime_ns = -1500000000;  // before 1970
  e.ctime_ns = 1767225600123456789;
  e.link_target = "../x";
  e.xattrs = {{"user.a", std::string("\0\1\2", 3)}, {"system.posix_acl_access", "bin"}};
  return e;
}

TEST(FsWire, RoundTripsEveryField) {
  Listing a{sample(""), {sample("one"), sample(std::string("bad\xff\0name", 9))}};
  Listing b{sample("x"), {}};
  std::string bytes;
  encode(bytes, a);
  encode(bytes, b);
  auto back = decode(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  const Entry& e = (*back)[0].children[1];
  const Entry want = a.children[1];
  EXPECT_EQ(e.name, want.name);
  EXPECT_EQ(e.node_id, want.node_id);
  EXPECT_EQ(e.version_id, want.version_id);
  EXPECT_EQ(e.link_node, want.link_node);
  EXPECT_EQ(e.type, want.type);
  EXPECT_EQ(e.mode, want.mode);
  EXPECT_EQ(e.uid, want.uid);
  EXPECT_EQ(e.gid, want.gid);
  EXPECT_EQ(e.size, want.size);
  EXPECT_EQ(e.nlink, want.nlink);
  EXPECT_EQ(e.rdev, want.rdev);
  EXPECT_EQ(e.mtime_ns, want.mtime_ns);
  EXPECT_EQ(e.ctime_ns, want.ctime_ns);
  EXPECT_EQ(e.link_target, want.link_target);
  EXPECT_EQ(e.xattrs, want.xattrs);
  EXPECT_EQ((*back)[1].self.name, "x");
  EXPECT_TRUE((*back)[1].children.empty());
}

TEST(FsWire, EmptyInputIsNoListings) {
  auto back = decode("");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

TEST(FsWire, EveryTruncationIsCorruptNotACrash) {
  std::string bytes;
  encode(bytes, Listing{sample("d"), {sample("a"), sample("b")}});
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    auto back = decode(std::string_view(bytes).substr(0, cut));
    ASSERT_FALSE(back.ok()) << "cut at " << cut;
    EXPECT_EQ(back.error().kind, ErrorKind::Corrupt);
  }
}

TEST(FsWire, HugeLengthsAreRefused) {
  // A name length of 2^63 and a child count far beyond the input must not allocate or read past.
  std::string bytes = "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  EXPECT_FALSE(decode(bytes).ok());
  std::string garbage(1000, '\xff');
  EXPECT_FALSE(decode(garbage).ok());
}

}  // namespace
}  // namespace recall::fswire
