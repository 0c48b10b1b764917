// Reading volumes: VolumeReader fetches one chunk by its catalog location; VolumeScanner walks
// every block from the start without a catalog (catalog rebuild, `recall scan`).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "tapebridge/volume_format.h"
#include "tapebridge/volume_io.h"

namespace recall::tape {

// Random access to chunks. Thread-safe: read_chunk() uses only pread on a shared descriptor
// and per-thread zstd contexts, so many threads may read one volume at once.
// Sees only bytes a writer has flushed.
class VolumeReader {
 public:
  // Verifies the label; a label naming another volume is Corrupt (wrong cartridge or file).
  static Result<VolumeReader> open(const std::string& path, const std::string& expected_volser);

  // Reads the block at `offset` of `length` bytes (header + payload, as in BlockRef) and
  // returns the chunk's plain bytes. Verifies magic, volser, type, lengths, CRC32, then
  // decompresses into exactly the header's plain length and checks SHA-256 == `expected`.
  // Any failure is ErrorKind::Corrupt with a message naming volume, block/offset and reason.
  Result<std::vector<std::uint8_t>> read_chunk(std::uint64_t offset, std::uint32_t length,
                                               const Digest& expected) const;
  Result<std::vector<std::uint8_t>> read_chunk(const BlockRef& ref, const Digest& expected) const {
    return read_chunk(ref.offset, ref.length, expected);
  }

  // The block as stored (header and still-compressed payload), checked like read_chunk(): the
  // CRC, the chunk id, and (decompressing once) the SHA-256 of the plain bytes. Migration copies
  // such blocks to tape without recompressing them.
  struct StoredBlock {
    BlockHeader header;
    std::vector<std::uint8_t> payload;
  };
  Result<StoredBlock> read_block(std::uint64_t offset, std::uint32_t length, const Digest& expected) const;

  const VolumeLabel& label() const { return label_; }
  const std::string& path() const { return path_; }

 private:
  // read_block() without the plain-bytes check, which read_chunk() makes itself.
  Result<StoredBlock> read_checked(std::uint64_t offset, std::uint32_t length, const Digest& expected) const;
  Error corrupt_at(std::uint64_t offset, std::int64_t block_no, const std::string& reason) const;
  VolumeReader(UniqueFd fd, std::string path, VolumeLabel label)
      : fd_(std::move(fd)), path_(std::move(path)), label_(std::move(label)) {}

  UniqueFd fd_;
  std::string path_;
  VolumeLabel label_;
};

struct ScannedBlock {
  BlockHeader header;
  std::uint64_t offset = 0;  // of the header
  std::uint32_t length = 0;  // header + payload
};

struct ScanOptions {
  // Read every payload and check its CRC32. Off: headers only, which is much faster on disk
  // but trusts payloads blindly (they are still verified when read later).
  bool verify_crc = true;
};

// Sequential walk over all blocks, label first. Not thread-safe.
class VolumeScanner {
 public:
  // With an empty `expected_volser`, accepts whatever volume the label names.
  static Result<VolumeScanner> open(const std::string& path, const std::string& expected_volser = {},
                                    ScanOptions options = {});

  // The next block; std::nullopt at a clean end (end of file after a complete block, or the
  // end block). A truncated tail, garbage, a wrong block number or a CRC mismatch is Corrupt
  // naming the offset; the error repeats on later calls, and good_bytes() says how far it got.
  Result<std::optional<ScannedBlock>> next();

  // Payload of the block last returned by next() (empty unless verify_crc read it).
  std::span<const std::uint8_t> payload() const { return payload_; }
  const VolumeLabel& label() const { return label_; }
  // End of the last block that passed every check: the size a repaired volume would have.
  std::uint64_t good_bytes() const { return pos_; }
  std::uint64_t blocks() const { return next_block_; }
  std::uint64_t file_size() const { return size_; }

 private:
  VolumeScanner(UniqueFd fd, std::string path, VolumeLabel label, std::uint64_t size, ScanOptions options)
      : fd_(std::move(fd)),
        path_(std::move(path)),
        label_(std::move(label)),
        size_(size),
        options_(options) {}
  Error fail(std::uint64_t offset, std::int64_t block_no, const std::string& reason);

  UniqueFd fd_;
  std::string path_;
  VolumeLabel label_;
  std::uint64_t size_ = 0;
  ScanOptions options_;
  std::uint64_t pos_ = 0;
  std::uint64_t next_block_ = 0;
  bool ended_ = false;
  std::optional<Error> error_;
  std::vector<std::uint8_t> payload_;
};

}  // namespace recall::tape
