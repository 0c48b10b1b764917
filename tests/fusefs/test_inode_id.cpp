#include <gtest/gtest.h>

#include <set>

#include "fusefs/inode_id.h"

namespace recall::fs {
namespace {

TEST(InodeId, KindsNeverCollide) {
  std::set<std::uint64_t> seen{kRootIno, kVersionsIno, kSearchIno};
  for (Kind k : {Kind::Host, Kind::Latest, Kind::Version, Kind::History, Kind::SearchDir, Kind::SearchLink})
    for (std::uint64_t id : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{1} << 40})
      EXPECT_TRUE(seen.insert(*make_ino(k, id)).second);
  for (Kind k : {Kind::Dir, Kind::Linked})
    for (std::uint64_t point : {std::uint64_t{1}, std::uint64_t{5}, kPointMax - 1})
      for (std::uint64_t node : {std::uint64_t{1}, std::uint64_t{3}, kNodeMask})
        EXPECT_TRUE(seen.insert(*make_ino(k, point, node)).second);
}

TEST(InodeId, DecodesWhatItEncodes) {
  auto ino = make_ino(Kind::Dir, 77, 123456789);
  ASSERT_TRUE(ino);
  EXPECT_EQ(kind_of(*ino), Kind::Dir);
  EXPECT_EQ(point_of(*ino), 77u);
  EXPECT_EQ(node_of(*ino), 123456789u);
  auto v = make_ino(Kind::Version, 987654321);
  EXPECT_EQ(kind_of(*v), Kind::Version);
  EXPECT_EQ(id_of(*v), 987654321u);
}

TEST(InodeId, OutOfRangeIdsAreRefusedNotWrapped) {
  EXPECT_FALSE(make_ino(Kind::Version, 0));
  EXPECT_FALSE(make_ino(Kind::Version, kIdMask + 1));
  EXPECT_FALSE(make_ino(Kind::Dir, kPointMax, 1));
  EXPECT_FALSE(make_ino(Kind::Dir, 1, kNodeMask + 1));
  EXPECT_FALSE(make_ino(Kind::Dir, 0, 1));
}

}  // namespace
}  // namespace recall::fs
