// A disk volume in a temp dir for tests of reading and staging content: contents are appended
// in pieces and described by the rows the catalog would return for them.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "catalog_test_util.h"
#include "catalogd/store/rows.h"
#include "common/sha256.h"
#include "tapebridge/volume_writer.h"

namespace recall::testing {

inline std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// All bytes of a descriptor, read with pread (its offset is left alone).
inline std::vector<std::uint8_t> read_whole(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {};
  std::vector<std::uint8_t> out(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

struct StoredContent {
  store::ContentRow content;
  std::vector<store::ChunkLocation> chunks;
  std::vector<std::uint8_t> bytes;
};

class VolumeFixture : public ::testing::Test {
 protected:
  static constexpr const char* kVolser = "D000001";

  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    stage_dir_ = tmp_.path() + "/stage";
    ASSERT_EQ(::mkdir(stage_dir_.c_str(), 0700), 0);
    volume_path_ = tmp_.path() + "/" + kVolser + ".vol";
    auto w = tape::VolumeWriter::create(volume_path_, kVolser);
    ASSERT_TRUE(w.ok()) << w.error().message;
    writer_ = std::make_unique<tape::VolumeWriter>(std::move(*w));
  }

  // Stores `bytes` as one content cut into pieces of `piece` bytes.
  StoredContent add(std::vector<std::uint8_t> bytes, std::size_t piece = 64 << 10) {
    StoredContent s;
    s.content.id = ++next_id_;
    s.content.sha = sha256(bytes);
    s.content.size = bytes.size();
    for (std::size_t off = 0; off < bytes.size(); off += piece) {
      std::span<const std::uint8_t> p(bytes.data() + off, std::min(piece, bytes.size() - off));
      Digest d = sha256(p);
      auto ref = writer_->append_chunk(d, p, 1);
      EXPECT_TRUE(ref.ok()) << ref.error().message;
      if (!ref.ok()) break;
      s.chunks.push_back(
          {d,
           p.size(),
           off,
           {store::StoredCopy{kVolser, volume_path_, "disk", "online", 0, ref->offset, ref->length, {}}}});
    }
    auto synced = writer_->sync();
    EXPECT_TRUE(synced.ok()) << synced.error().message;
    s.bytes = std::move(bytes);
    return s;
  }

  // Flips one byte in the stored payload of a chunk: its block checksum no longer matches.
  void corrupt(const store::ChunkLocation& c) {
    int fd = ::open(volume_path_.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::uint8_t b = 0;
    off_t at = static_cast<off_t>(c.copies.at(0).offset + tape::kHeaderSize + 7);
    ASSERT_EQ(::pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    ASSERT_EQ(::pwrite(fd, &b, 1, at), 1);
    ::close(fd);
  }

  CatalogTempDir tmp_;
  std::string stage_dir_;
  std::string volume_path_;
  std::unique_ptr<tape::VolumeWriter> writer_;
  std::int64_t next_id_ = 0;
};

}  // namespace recall::testing
