#include <gtest/gtest.h>

#include "fusefs/node_table.h"

namespace recall::fs {
namespace {

TEST(NodeTable, LivesUntilTheKernelForgetsEveryLookup) {
  NodeTable t;
  Inode n;
  n.host = "h";
  t.remember(10, n);
  t.remember(10, n);
  t.forget(10, 1);
  ASSERT_TRUE(t.get(10));
  EXPECT_EQ(t.get(10)->host, "h");
  t.forget(10, 1);
  EXPECT_FALSE(t.get(10));
  t.forget(10, 5);  // a forget for an unknown inode is harmless
  EXPECT_EQ(t.size(), 0u);
}

std::shared_ptr<const fswire::Listing> listing_of(std::size_t children) {
  auto l = std::make_shared<fswire::Listing>();
  l->children.resize(children);
  return l;
}

TEST(ListingCache, EvictsLeastRecentlyUsedWithinItsBudget) {
  std::size_t one = approx_bytes(*listing_of(100));
  ListingCache c(one * 2 + one / 2);
  c.put(1, 1, listing_of(100));
  c.put(1, 2, listing_of(100));
  ASSERT_TRUE(c.get(1, 1));  // 1 is now the most recent
  c.put(1, 3, listing_of(100));
  EXPECT_TRUE(c.get(1, 1));
  EXPECT_FALSE(c.get(1, 2));
  EXPECT_TRUE(c.get(1, 3));
  EXPECT_LE(c.bytes(), one * 2 + one / 2);
}

TEST(ListingCache, KeepsTheFirstCopyOfADirectory) {
  ListingCache c(1 << 20);
  auto a = listing_of(1);
  c.put(2, 9, a);
  c.put(2, 9, listing_of(5));
  EXPECT_EQ(c.get(2, 9), a);
}

}  // namespace
}  // namespace recall::fs
