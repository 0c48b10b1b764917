#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "common/sha256.h"
#include "importers/chunker.h"

using namespace recall;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const std::uint64_t v = rng();
    for (int k = 0; k < 8; ++k) b[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  for (std::size_t i = n & ~std::size_t{7}; i < n; ++i) b[i] = static_cast<std::uint8_t>(rng());
  return b;
}

// Cuts the whole buffer the way an importer does: always offering up to `max` bytes.
std::vector<std::size_t> chunk_lengths(const Chunker& c, const Bytes& data) {
  std::vector<std::size_t> out;
  std::span<const std::uint8_t> rest(data);
  while (!rest.empty()) {
    const std::size_t n = c.cut(rest.first(std::min(rest.size(), c.params().max)));
    EXPECT_GT(n, 0u);
    out.push_back(n);
    rest = rest.subspan(n);
  }
  return out;
}

std::vector<Digest> chunk_ids(const Chunker& c, const Bytes& data) {
  std::vector<Digest> ids;
  std::size_t off = 0;
  for (std::size_t n : chunk_lengths(c, data)) {
    ids.push_back(sha256(std::span<const std::uint8_t>(data).subspan(off, n)));
    off += n;
  }
  return ids;
}

}  // namespace

TEST(Chunker, DefaultsAreDocumentedValues) {
  const Chunker c;
  EXPECT_EQ(c.params().min, 16u * 1024);
  EXPECT_EQ(c.params().avg, 64u * 1024);
  EXPECT_EQ(c.params().max, 256u * 1024);
}

TEST(Chunker, CutsAreDeterministic) {
  const Bytes data = random_bytes(4 << 20, 1);
  const auto a = chunk_lengths(Chunker(), data);
  const auto b = chunk_lengths(Chunker(), data);
  EXPECT_EQ(a, b);
  // Pinned boundaries: the gear table and masks are part of the stored format, since changing
  // them breaks dedup against existing data. If this fails, you changed the chunker's output.
  const Bytes fixed = random_bytes(1 << 20, 42);
  const auto lengths = chunk_lengths(Chunker(), fixed);
  ASSERT_GE(lengths.size(), 6u);
  EXPECT_EQ(std::vector<std::size_t>(lengths.begin(), lengths.begin() + 6),
            (std::vector<std::size_t>{75080, 70000, 100289, 78846, 65634, 109837}));
}

TEST(Chunker, EveryChunkWithinBoundsExceptTheLast) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const Bytes data = random_bytes((8 << 20) + 12345, seed);
    const Chunker c;
    const auto lengths = chunk_lengths(c, data);
    for (std::size_t i = 0; i + 1 < lengths.size(); ++i) {
      EXPECT_GE(lengths[i], c.params().min) << "chunk " << i;
      EXPECT_LE(lengths[i], c.params().max) << "chunk " << i;
    }
    EXPECT_LE(lengths.back(), c.params().max);
  }
}

TEST(Chunker, LowEntropyDataIsCutAtMaxOrMin) {
  const Chunker c;
  const Bytes zeros(1 << 20, 0);
  for (std::size_t n : chunk_lengths(c, zeros)) {
    EXPECT_GE(n, c.params().min);
    EXPECT_LE(n, c.params().max);
  }
}

TEST(Chunker, AverageSizeIsNearTarget) {
  const Bytes data = random_bytes(64 << 20, 7);
  const Chunker c;
  const auto lengths = chunk_lengths(c, data);
  const double avg = double(data.size()) / double(lengths.size());
  EXPECT_GT(avg, c.params().avg / 1.5);
  EXPECT_LT(avg, c.params().avg * 1.5);
  // Smaller parameters scale the same way.
  const Chunker small(ChunkerParams{.min = 2048, .avg = 8192, .max = 32768});
  const double small_avg = double(data.size()) / double(chunk_lengths(small, data).size());
  EXPECT_GT(small_avg, 8192 / 1.5);
  EXPECT_LT(small_avg, 8192 * 1.5);
}

TEST(Chunker, InsertionNearStartChangesOnlyTheFirstChunks) {
  const Bytes original = random_bytes(8 << 20, 3);
  for (std::size_t insert_len : {1u, 7u, 100u, 5000u}) {
    for (std::size_t pos : {0u, 100u, 20000u}) {
      Bytes edited = original;
      const Bytes extra = random_bytes(insert_len, 1000 + insert_len);
      edited.insert(edited.begin() + static_cast<std::ptrdiff_t>(pos), extra.begin(), extra.end());
      const Chunker c;
      const auto before = chunk_ids(c, original);
      const auto after = chunk_ids(c, edited);
      const std::set<Digest> known(before.begin(), before.end());
      int fresh = 0;
      for (const auto& id : after) fresh += known.count(id) ? 0 : 1;
      EXPECT_LE(fresh, 2) << "insert " << insert_len << " bytes at " << pos;
      EXPECT_GE(after.size() + 2, before.size());
    }
  }
}

TEST(Chunker, TinyInputs) {
  const Chunker c;
  EXPECT_EQ(c.cut({}), 0u);
  const Bytes one(1, 0xab);
  EXPECT_EQ(c.cut(one), 1u);
  const Bytes at_min = random_bytes(c.params().min, 5);
  EXPECT_EQ(c.cut(at_min), at_min.size());
  const Bytes just_over = random_bytes(c.params().min + 1, 5);
  EXPECT_EQ(c.cut(just_over), just_over.size());
  // Offered more than max, it never returns more than max.
  const Bytes big(c.params().max * 3, 0x11);
  EXPECT_LE(c.cut(big), c.params().max);
}

TEST(Chunker, ParametersAreClamped) {
  const Chunker c(ChunkerParams{.min = 0, .avg = 1, .max = 10});
  EXPECT_GE(c.params().min, 64u);
  EXPECT_LE(c.params().min, c.params().avg);
  EXPECT_LE(c.params().avg, c.params().max);
  const Bytes data = random_bytes(10000, 9);
  for (std::size_t n : chunk_lengths(c, data)) EXPECT_LE(n, c.params().max);
}
