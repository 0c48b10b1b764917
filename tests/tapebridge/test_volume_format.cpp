#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>

#include "common/sha256.h"
#include "common/time.h"
#include "tapebridge/volume_format.h"
#include "tapebridge/volume_reader.h"
#include "tapebridge/volume_writer.h"

using namespace recall;
using namespace recall::tape;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

// Text-like bytes that zstd shrinks well.
Bytes compressible_bytes(std::size_t n, std::uint64_t seed) {
  static const char* kWords[] = {"restore ", "volume ", "chunk ", "tape ", "catalog ", "point\n"};
  std::mt19937_64 rng(seed);
  Bytes b;
  while (b.size() < n) {
    const char* w = kWords[rng() % 6];
    b.insert(b.end(), w, w + std::strlen(w));
  }
  b.resize(n);
  return b;
}

class VolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "recall-vol-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "D000001.vol").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `chunks` to a new volume; returns their BlockRefs.
  std::vector<BlockRef> write_volume(const std::vector<Bytes>& chunks, bool seal = false) {
    auto w = VolumeWriter::create(path_, "D000001");
    EXPECT_TRUE(w.ok()) << w.error().message;
    std::vector<BlockRef> refs;
    for (const auto& c : chunks) {
      auto ref = w->append_chunk(sha256(c), c, 3);
      EXPECT_TRUE(ref.ok()) << ref.error().message;
      refs.push_back(*ref);
    }
    if (seal) {
      EXPECT_TRUE(w->seal().ok());
    }
    EXPECT_TRUE(w->close().ok());
    return refs;
  }

  void patch(std::uint64_t offset, const Bytes& bytes) {
    int fd = ::open(path_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), ssize_t(bytes.size()));
    ::close(fd);
  }
  std::uint64_t file_bytes() const { return fs::file_size(path_); }

  fs::path dir_;
  std::string path_;
};

std::vector<Bytes> mixed_chunks(int n) {
  std::vector<Bytes> chunks;
  for (int i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:
        chunks.push_back(random_bytes(1000 + i * 97, i));
        break;
      case 1:
        chunks.push_back(compressible_bytes(20000 + i * 13, i));
        break;
      case 2:
        chunks.push_back({});
        break;
      default:
        chunks.push_back(random_bytes(1 + i % 7, i));
        break;
    }
  }
  return chunks;
}

}  // namespace

TEST_F(VolumeTest, RoundTripManyChunks) {
  std::vector<Bytes> chunks = mixed_chunks(400);
  chunks.push_back(compressible_bytes(5u << 20, 1));  // larger than the write buffer
  chunks.push_back(random_bytes(300000, 2));
  const auto refs = write_volume(chunks);

  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->label().volser, "D000001");
  EXPECT_NEAR(double(r->label().created), double(now_utc()), 60);
  std::uint64_t expect_off = kHeaderSize + kLabelPayloadSize;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(refs[i].block_no, i + 1);
    EXPECT_EQ(refs[i].offset, expect_off);
    EXPECT_EQ(refs[i].length, kHeaderSize + refs[i].stored_length);
    expect_off += refs[i].length;
  }
  EXPECT_EQ(expect_off, file_bytes());
  EXPECT_EQ(refs[1].codec, Codec::Zstd);
  EXPECT_LT(refs[1].stored_length, chunks[1].size());
  EXPECT_EQ(refs[0].codec, Codec::None);  // random bytes do not compress
  EXPECT_EQ(refs[2].codec, Codec::None);  // empty chunk
  // Read back in a scrambled order: locations are independent.
  std::vector<std::size_t> order(chunks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (std::size_t i : order) {
    auto got = r->read_chunk(refs[i], sha256(chunks[i]));
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, chunks[i]) << "chunk " << i;
  }
}

TEST_F(VolumeTest, PrecompressedChunksFromWorkerThreads) {
  const auto chunks = mixed_chunks(64);
  std::vector<CompressedChunk> compressed(chunks.size());
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = t; i < chunks.size(); i += 4) {
        compressed[i] = VolumeWriter::compress_chunk(chunks[i], 3);
      }
    });
  }
  for (auto& th : workers) th.join();
  auto w = VolumeWriter::create(path_, "D000001");
  ASSERT_TRUE(w.ok());
  std::vector<BlockRef> refs;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto ref = w->append_chunk(sha256(chunks[i]), compressed[i]);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    refs.push_back(*ref);
  }
  CompressedChunk bad = compressed[1];
  bad.plain_length += 1;  // frame content size no longer matches
  EXPECT_EQ(w->append_chunk(sha256(chunks[1]), bad).error().kind, ErrorKind::Invalid);
  ASSERT_TRUE(w->sync().ok());
  EXPECT_EQ(w->size(), file_bytes());

  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok());
  // Concurrent readers share one descriptor.
  std::vector<std::thread> readers;
  std::atomic<int> bad_reads{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        auto got = r->read_chunk(refs[i], sha256(chunks[i]));
        if (!got.ok() || *got != chunks[i]) ++bad_reads;
      }
    });
  }
  for (auto& th : readers) th.join();
  EXPECT_EQ(bad_reads.load(), 0);
}

TEST_F(VolumeTest, CreateRefusesExistingFileAndBadVolser) {
  write_volume({});
  EXPECT_EQ(VolumeWriter::create(path_, "D000001").error().kind, ErrorKind::Conflict);
  EXPECT_EQ(VolumeWriter::create((dir_ / "x").string(), "TOOLONGVS").error().kind, ErrorKind::Invalid);
  EXPECT_EQ(VolumeWriter::create((dir_ / "y").string(), "A B").error().kind, ErrorKind::Invalid);
  EXPECT_EQ(VolumeWriter::create((dir_ / "z").string(), "").error().kind, ErrorKind::Invalid);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
  EXPECT_EQ(fs::status(path_).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(VolumeTest, ReopenForAppendContinuesNumbering) {
  const auto first = mixed_chunks(10);
  auto refs = write_volume(first);
  const auto size_before = file_bytes();

  auto w = VolumeWriter::open_append(path_, "D000001");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->dropped_bytes(), 0u);
  EXPECT_EQ(w->size(), size_before);
  EXPECT_EQ(w->next_block_no(), 11u);
  const Bytes extra = compressible_bytes(50000, 99);
  auto ref = w->append_chunk(sha256(extra), extra, 3);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->block_no, 11u);
  EXPECT_EQ(ref->offset, size_before);
  ASSERT_TRUE(w->close().ok());

  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->read_chunk(*ref, sha256(extra)), extra);
  EXPECT_EQ(*r->read_chunk(refs[3], sha256(first[3])), first[3]);
}

TEST_F(VolumeTest, TornTailIsTruncatedOnReopen) {
  const auto chunks = mixed_chunks(8);
  const auto refs = write_volume(chunks);
  const BlockRef& last = refs.back();
  const std::uint64_t good_end = last.offset;  // block 8 will be cut

  struct Case {
    const char* name;
    std::function<void()> damage;
  };
  const std::vector<Case> cases = {
      {"payload cut short", [&] { fs::resize_file(path_, last.offset + last.length - 1); }},
      {"partial header", [&] { fs::resize_file(path_, last.offset + 30); }},
      {"crc mismatch in last block", [&] { patch(last.offset + last.length - 1, {0x5a}); }},
  };
  const Bytes pristine = [&] {
    Bytes b(file_bytes());
    int fd = ::open(path_.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, b.data(), b.size(), 0), ssize_t(b.size()));
    ::close(fd);
    return b;
  }();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove(path_);
    {
      int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT, 0600);
      ASSERT_EQ(::write(fd, pristine.data(), pristine.size()), ssize_t(pristine.size()));
      ::close(fd);
    }
    c.damage();
    const auto damaged = file_bytes();
    auto w = VolumeWriter::open_append(path_, "D000001");
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_EQ(w->dropped_bytes(), damaged - good_end);
    EXPECT_FALSE(w->dropped_reason().empty());
    EXPECT_EQ(file_bytes(), good_end);
    EXPECT_EQ(w->next_block_no(), last.block_no);
    auto ref = w->append_chunk(sha256(chunks.back()), chunks.back(), 3);
    ASSERT_TRUE(ref.ok());
    EXPECT_EQ(ref->block_no, last.block_no);
    ASSERT_TRUE(w->close().ok());
    auto s = VolumeScanner::open(path_, "D000001");
    ASSERT_TRUE(s.ok());
    int n = 0;
    for (;;) {
      auto b = s->next();
      ASSERT_TRUE(b.ok()) << b.error().message;
      if (!*b) break;
      ++n;
    }
    EXPECT_EQ(n, 1 + int(chunks.size()));
  }

  // Garbage (zeros, as a crash can leave after a file grew) after the last complete block.
  fs::remove(path_);
  write_volume(chunks);
  const auto full = file_bytes();
  fs::resize_file(path_, full + 4096);
  auto w = VolumeWriter::open_append(path_, "D000001");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->dropped_bytes(), 4096u);
  EXPECT_THAT(w->dropped_reason(), HasSubstr("offset " + std::to_string(full)));
}

TEST_F(VolumeTest, ReopenRefusesToTruncateReferencedBlocks) {
  const auto chunks = mixed_chunks(8);
  const auto refs = write_volume(chunks);
  const auto size = file_bytes();
  patch(refs[2].offset, {'X'});  // a garbled header in the middle is not a torn tail
  auto w = VolumeWriter::open_append(path_, "D000001", size);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(w.error().message, HasSubstr("not truncating"));
  EXPECT_EQ(file_bytes(), size);
}

TEST_F(VolumeTest, SealedVolumeRefusesAppends) {
  const auto chunks = mixed_chunks(3);
  write_volume(chunks, /*seal=*/true);
  auto w = VolumeWriter::open_append(path_, "D000001");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::Conflict);
}

TEST_F(VolumeTest, FlippedPayloadByteIsCorrupt) {
  const auto chunks = mixed_chunks(4);
  const auto refs = write_volume(chunks);
  const BlockRef& ref = refs[1];
  patch(ref.offset + kHeaderSize + ref.stored_length / 2, {0xff});
  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok());
  auto got = r->read_chunk(ref, sha256(chunks[1]));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(got.error().message, HasSubstr("CRC32"));
  EXPECT_THAT(got.error().message, HasSubstr("D000001"));
  EXPECT_THAT(got.error().message, HasSubstr("block 2"));
  EXPECT_THAT(got.error().message, HasSubstr("offset " + std::to_string(ref.offset)));
  // Other chunks are unaffected.
  EXPECT_TRUE(r->read_chunk(refs[0], sha256(chunks[0])).ok());
}

TEST_F(VolumeTest, WrongExpectedHashIsCorrupt) {
  const auto chunks = mixed_chunks(2);
  const auto refs = write_volume(chunks);
  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok());
  auto got = r->read_chunk(refs[0], sha256(chunks[1]));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(got.error().message, HasSubstr("expected " + to_hex(sha256(chunks[1]))));
}

TEST_F(VolumeTest, WrongLocationIsCorrupt) {
  const auto chunks = mixed_chunks(2);
  const auto refs = write_volume(chunks);
  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok());
  const Digest d = sha256(chunks[0]);
  EXPECT_THAT(r->read_chunk(refs[0].offset, refs[0].length + 1, d).error().message,
              HasSubstr("length mismatch"));
  EXPECT_THAT(r->read_chunk(refs[0].offset + 1, refs[0].length, d).error().message, HasSubstr("magic"));
  EXPECT_THAT(r->read_chunk(0, refs[0].length, d).error().message, HasSubstr("label"));
  EXPECT_THAT(r->read_chunk(refs[1].offset, refs[1].length + 100, d).error().message, HasSubstr("truncated"));
}

TEST_F(VolumeTest, WrongVolserIsCorrupt) {
  write_volume(mixed_chunks(2));
  auto r = VolumeReader::open(path_, "D000002");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(r.error().message, HasSubstr("label names volume D000001, expected D000002"));
  EXPECT_EQ(VolumeWriter::open_append(path_, "D000002").error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(VolumeScanner::open(path_, "D000002").error().kind, ErrorKind::Corrupt);
  EXPECT_TRUE(VolumeScanner::open(path_).ok());  // no expectation: learn the volser from the label
}

TEST_F(VolumeTest, NotAVolumeIsCorrupt) {
  {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT, 0600);
    const std::string junk =
        "this is not a volume, just some text that is long enough for a label block.....";
    ASSERT_EQ(::write(fd, junk.data(), junk.size()), ssize_t(junk.size()));
    ::close(fd);
  }
  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(VolumeReader::open((dir_ / "missing").string(), "D000001").error().kind, ErrorKind::NotFound);
}

TEST_F(VolumeTest, ScannerListsAllBlocks) {
  const auto chunks = mixed_chunks(30);
  const auto refs = write_volume(chunks, /*seal=*/true);
  auto s = VolumeScanner::open(path_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->label().volser, "D000001");
  std::vector<ScannedBlock> blocks;
  for (;;) {
    auto b = s->next();
    ASSERT_TRUE(b.ok()) << b.error().message;
    if (!*b) break;
    blocks.push_back(**b);
  }
  ASSERT_EQ(blocks.size(), chunks.size() + 2);
  EXPECT_EQ(blocks.front().header.type, BlockType::Label);
  EXPECT_EQ(blocks.back().header.type, BlockType::End);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ScannedBlock& b = blocks[i + 1];
    EXPECT_EQ(b.header.type, BlockType::Chunk);
    EXPECT_EQ(b.header.block_no, refs[i].block_no);
    EXPECT_EQ(b.offset, refs[i].offset);
    EXPECT_EQ(b.length, refs[i].length);
    EXPECT_EQ(b.header.codec, refs[i].codec);
    EXPECT_EQ(b.header.plain_length, chunks[i].size());
    EXPECT_EQ(b.header.plain_sha, sha256(chunks[i]));
    EXPECT_EQ(b.header.volser, "D000001");
  }
  EXPECT_EQ(s->good_bytes(), file_bytes());
  auto again = s->next();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());

  // Headers-only mode sees the same blocks.
  auto h = VolumeScanner::open(path_, "D000001", ScanOptions{.verify_crc = false});
  ASSERT_TRUE(h.ok());
  std::size_t n = 0;
  for (auto b = h->next(); b.ok() && b->has_value(); b = h->next()) ++n;
  EXPECT_EQ(n, blocks.size());
}

TEST_F(VolumeTest, ScannerReportsTruncationAndGarbageByOffset) {
  const auto chunks = mixed_chunks(6);
  const auto refs = write_volume(chunks);
  const BlockRef& last = refs.back();
  fs::resize_file(path_, last.offset + last.length - 1);
  {
    auto s = VolumeScanner::open(path_, "D000001");
    ASSERT_TRUE(s.ok());
    Result<std::optional<ScannedBlock>> b = std::optional<ScannedBlock>();
    int ok_blocks = 0;
    while ((b = s->next()).ok() && b->has_value()) ++ok_blocks;
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().kind, ErrorKind::Corrupt);
    EXPECT_THAT(b.error().message, HasSubstr("offset " + std::to_string(last.offset)));
    EXPECT_THAT(b.error().message, HasSubstr("truncated"));
    EXPECT_EQ(ok_blocks, int(chunks.size()));  // label + all but the last chunk
    EXPECT_EQ(s->good_bytes(), last.offset);
    EXPECT_FALSE(s->next().ok());  // the error sticks
  }
  // A flipped byte in a middle payload: CRC error at that block.
  fs::remove(path_);
  const auto refs2 = write_volume(chunks);
  patch(refs2[1].offset + kHeaderSize + 10, {0x00, 0x01, 0x02});
  auto s = VolumeScanner::open(path_);
  ASSERT_TRUE(s.ok());
  Result<std::optional<ScannedBlock>> b = std::optional<ScannedBlock>();
  while ((b = s->next()).ok() && b->has_value()) {
  }
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message, HasSubstr("block 2 at offset " + std::to_string(refs2[1].offset)));
  EXPECT_THAT(b.error().message, HasSubstr("CRC32"));
}

// Writes a hand-made block with a valid CRC at the end of the volume, so the only thing wrong
// with it is what the test puts in its header.
BlockRef append_raw_block(const std::string& path, BlockHeader h, const Bytes& payload) {
  const std::uint64_t off = fs::file_size(path);
  std::uint8_t hdr[kHeaderSize];
  encode_header(h, hdr);
  h.crc = block_crc(hdr, payload);
  encode_header(h, hdr);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
  EXPECT_EQ(::write(fd, hdr, kHeaderSize), ssize_t(kHeaderSize));
  EXPECT_EQ(::write(fd, payload.data(), payload.size()), ssize_t(payload.size()));
  ::close(fd);
  return BlockRef{h.block_no, off, std::uint32_t(kHeaderSize + payload.size()), std::uint32_t(payload.size()),
                  h.codec};
}

TEST_F(VolumeTest, HostileLengthsAreRejectedWithoutHugeAllocations) {
  write_volume({});
  const Digest d = sha256(std::string_view("anything"));
  auto r = VolumeReader::open(path_, "D000001");
  ASSERT_TRUE(r.ok());
  // A location claiming 4 GiB: rejected before any buffer is sized from it.
  EXPECT_THAT(r->read_chunk(kHeaderSize + kLabelPayloadSize, 0xffffffffu, d).error().message,
              HasSubstr("impossible block length"));

  // A header claiming a 60 MiB payload in a tiny file: the scanner reports a truncated tail
  // (checked against the file size, never allocated).
  BlockHeader big;
  big.volser = "D000001";
  big.block_no = 1;
  big.payload_length = big.plain_length = 60u << 20;
  std::uint8_t hdr[kHeaderSize];
  encode_header(big, hdr);
  {
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND);
    ASSERT_EQ(::write(fd, hdr, kHeaderSize), ssize_t(kHeaderSize));
    ::close(fd);
  }
  {
    auto s = VolumeScanner::open(path_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->next().ok());  // label
    auto b = s->next();
    ASSERT_FALSE(b.ok());
    EXPECT_THAT(b.error().message, HasSubstr("truncated tail"));
  }
  fs::resize_file(path_, kHeaderSize + kLabelPayloadSize);

  // Lengths past the 64 MiB limit are malformed headers, whatever the file size.
  BlockHeader huge = big;
  huge.payload_length = huge.plain_length = 0xfffffff0u;
  encode_header(huge, hdr);
  EXPECT_THAT(decode_header(hdr).error().message, HasSubstr("64 MiB"));
  BlockHeader grow = big;  // zstd payload "bigger" than its plain size
  grow.codec = Codec::Zstd;
  grow.payload_length = 100;
  grow.plain_length = 10;
  encode_header(grow, hdr);
  EXPECT_FALSE(decode_header(hdr).ok());

  // A zstd bomb: a valid frame of 16 MiB of zeros under a header claiming 1000 plain bytes.
  // Decompression is bounded by the header's plain length and fails cleanly.
  Bytes zeros(16u << 20, 0);
  Bytes frame(ZSTD_compressBound(zeros.size()));
  frame.resize(ZSTD_compress(frame.data(), frame.size(), zeros.data(), zeros.size(), 3));
  ASSERT_LT(frame.size(), 1000u);
  BlockHeader bomb;
  bomb.volser = "D000001";
  bomb.block_no = 1;
  bomb.codec = Codec::Zstd;
  bomb.payload_length = std::uint32_t(frame.size());
  bomb.plain_length = 1000;
  bomb.plain_sha = d;
  const BlockRef ref = append_raw_block(path_, bomb, frame);
  auto got = r->read_chunk(ref, d);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(got.error().message, HasSubstr("zstd"));
  EXPECT_THAT(got.error().message, HasSubstr("block 1"));
}

TEST(VolumeFormat, HeaderRoundTripAndLabel) {
  BlockHeader h;
  h.type = BlockType::Chunk;
  h.codec = Codec::Zstd;
  h.volser = "R00042";
  h.block_no = 0x0102030405060708ULL;
  h.payload_length = 1234;
  h.plain_length = 5678;
  h.plain_sha = sha256(std::string_view("x"));
  h.crc = 0xdeadbeef;
  std::uint8_t buf[kHeaderSize];
  encode_header(h, buf);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "RCLB");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf + 8), 8), "R00042  ");
  EXPECT_EQ(buf[16], 0x08);  // little-endian block number
  auto back = decode_header(buf);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->volser, "R00042");
  EXPECT_EQ(back->block_no, h.block_no);
  EXPECT_EQ(back->payload_length, 1234u);
  EXPECT_EQ(back->plain_length, 5678u);
  EXPECT_EQ(back->plain_sha, h.plain_sha);
  EXPECT_EQ(back->crc, 0xdeadbeefu);
  buf[70] = 1;  // reserved byte
  EXPECT_FALSE(decode_header(buf).ok());

  auto label = decode_label(encode_label(VolumeLabel{"R00042", kFormatVersion, 1764000000}));
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(label->volser, "R00042");
  EXPECT_EQ(label->created, 1764000000);
}
