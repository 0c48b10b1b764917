// The staging cache: verified reads, LRU bounded by bytes, pins, restarts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tape_test_util.h"
#include "tapebridge/chunk_cache.h"
#include "tapebridge/volume_format.h"

namespace recall::tape {
namespace {

using testing::TapeTempDir;

struct Block {
  Digest sha{};
  std::vector<std::uint8_t> plain, bytes;
};

Block make_block(std::size_t n, std::uint64_t seed) {
  Block b;
  b.plain = testing::tape_random_bytes(n, seed, seed % 2);
  b.sha = sha256(b.plain);
  auto cc = compress_chunk(b.plain, 3);
  append_block_bytes(b.bytes, BlockType::Chunk, cc.codec, "R00001", 1, cc.plain_length, b.sha, cc.payload);
  return b;
}

TEST(ChunkCache, KeepsVerifiedBlocksAndReadsThemBack) {
  TapeTempDir tmp;
  ChunkCache cache(tmp.path() + "/c", 10u << 20);
  ASSERT_TRUE(cache.open().ok());
  auto b = make_block(100'000, 1);
  EXPECT_FALSE(cache.pin(b.sha));
  auto pin = cache.put(b.sha, b.bytes);
  ASSERT_TRUE(pin.ok()) << pin.error().message;
  auto plain = cache.read(*pin);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, b.plain);
  EXPECT_TRUE(cache.contains(b.sha));
  auto s = cache.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.pinned, 1u);
  EXPECT_EQ(s.bytes, b.bytes.size());
  EXPECT_EQ(s.misses, 1u);
}

TEST(ChunkCache, EvictsLeastRecentlyUsedButNeverPinned) {
  TapeTempDir tmp;
  std::vector<Block> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(make_block(200'000, 10 + 2 * i));  // incompressible
  const std::uint64_t one = blocks[0].bytes.size();
  ChunkCache cache(tmp.path() + "/c", 3 * one + 10);
  ASSERT_TRUE(cache.open().ok());
  auto held = cache.put(blocks[0].sha, blocks[0].bytes);  // stays pinned
  ASSERT_TRUE(held.ok());
  for (int i = 1; i < 6; ++i) {
    auto p = cache.put(blocks[i].sha, blocks[i].bytes);
    ASSERT_TRUE(p.ok());
    if (i == 2) {
      auto again = cache.pin(blocks[1].sha);  // 1 is used again: 3 goes before it
      ASSERT_TRUE(again);
    }
  }
  EXPECT_TRUE(cache.contains(blocks[0].sha)) << "a pinned entry was evicted";
  EXPECT_LE(cache.stats().bytes, 3 * one + 10);
  EXPECT_TRUE(cache.contains(blocks[5].sha));
  EXPECT_FALSE(cache.contains(blocks[2].sha));
  EXPECT_GT(cache.stats().evictions, 0u);
  // Everything pinned: the cache goes past its bound rather than drop what readers hold, and
  // comes back under it as they let go.
  std::vector<ChunkCache::Pin> pins;
  for (int i = 0; i < 6; ++i) {
    auto p = cache.put(blocks[i].sha, blocks[i].bytes);
    ASSERT_TRUE(p.ok());
    pins.push_back(std::move(*p));
  }
  EXPECT_GT(cache.stats().bytes, 3 * one + 10);
  pins.clear();
  held->release();
  EXPECT_LE(cache.stats().bytes, 3 * one + 10);
}

TEST(ChunkCache, ADamagedEntryIsDroppedNotServed) {
  TapeTempDir tmp;
  ChunkCache cache(tmp.path() + "/c", 10u << 20);
  ASSERT_TRUE(cache.open().ok());
  auto b = make_block(50'000, 3);
  auto pin = cache.put(b.sha, b.bytes);
  ASSERT_TRUE(pin.ok());
  const std::string hex = to_hex(b.sha);
  const std::string file = tmp.path() + "/c/" + hex.substr(0, 2) + "/" + hex + ".blk";
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x42');
  }
  auto plain = cache.read(*pin);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(plain.error().message.find(file), std::string::npos);
  EXPECT_FALSE(cache.contains(b.sha));
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_EQ(cache.stats().corrupt, 1u);
}

// Pins of an entry that was dropped (damaged) do not unpin the entry staged again in its place.
TEST(ChunkCache, OldPinsDoNotTouchAnEntryStagedAgain) {
  TapeTempDir tmp;
  auto b = make_block(200'000, 12);
  ChunkCache cache(tmp.path() + "/c", b.bytes.size() + 10);
  ASSERT_TRUE(cache.open().ok());
  auto first = cache.put(b.sha, b.bytes);
  auto second = cache.share(*first);
  const std::string hex = to_hex(b.sha);
  std::filesystem::resize_file(tmp.path() + "/c/" + hex.substr(0, 2) + "/" + hex + ".blk", 10);
  ASSERT_FALSE(cache.read(*first).ok());  // dropped
  auto again = cache.put(b.sha, b.bytes);
  ASSERT_TRUE(again.ok());
  first->release();
  second.release();
  EXPECT_EQ(cache.stats().pinned, 1u) << "the new entry is still pinned by its own pin";
  auto other = make_block(200'000, 14);
  ASSERT_TRUE(cache.put(other.sha, other.bytes).ok());  // no room: but the pinned entry stays
  EXPECT_TRUE(cache.contains(b.sha));
  EXPECT_EQ(*cache.read(*again), b.plain);
}

TEST(ChunkCache, ARestartKeepsWhatWasStaged) {
  TapeTempDir tmp;
  auto a = make_block(30'000, 5), b = make_block(40'000, 7);
  {
    ChunkCache cache(tmp.path() + "/c", 10u << 20);
    ASSERT_TRUE(cache.open().ok());
    ASSERT_TRUE(cache.put(a.sha, a.bytes).ok());
    ASSERT_TRUE(cache.put(b.sha, b.bytes).ok());
  }
  std::ofstream(tmp.path() + "/c/.put-leftover") << "half a write";
  ChunkCache cache(tmp.path() + "/c", 10u << 20);
  ASSERT_TRUE(cache.open().ok());
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.stats().bytes, a.bytes.size() + b.bytes.size());
  auto pin = cache.pin(a.sha);
  ASSERT_TRUE(pin);
  EXPECT_EQ(*cache.read(*pin), a.plain);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/c/.put-leftover"));
}

}  // namespace
}  // namespace recall::tape
