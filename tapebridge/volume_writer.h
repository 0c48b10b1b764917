// Appends chunks to a volume file in the format of docs/volume-format.md.
#pragma once

#include <cstddef>
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

// One writer per volume file; not thread-safe (compress in workers with compress_chunk(),
// append from one thread). Appends are buffered: bytes reach the file on flush() (or when the
// buffer fills) and are durable after sync(). The catalog may reference a chunk only after a
// sync() that covers it; anything beyond is reclaimable (see docs/volume-format.md).
//
// After a failed write the writer refuses further appends with the same error, since the file
// may now end in a partial block; reopen with open_append() to cut it off.
class VolumeWriter {
 public:
  // Importers append ~100k small chunks per run; a few MiB per write() keeps syscalls rare.
  static constexpr std::size_t kBufferSize = 4u << 20;

  // Creates a new volume (never overwrites: an existing file is Conflict) with its label block,
  // durable (file and directory entry synced) before returning. Mode 0600: the volume holds
  // every user's bytes; who may read them is decided by auth/, never by file mode.
  static Result<VolumeWriter> create(const std::string& path, const std::string& volser);

  // Opens an existing volume for appending: verifies the label, walks the block headers to the
  // last complete block, checks the CRC of trailing blocks, and truncates a torn or garbled tail
  // (dropped_bytes() says how much). `must_keep` is the end of the furthest block the catalog
  // references: if the intact blocks end before it, nothing is truncated and the result is
  // Corrupt, because the damage is not a torn tail but lost data. A sealed volume is Conflict.
  static Result<VolumeWriter> open_append(const std::string& path, const std::string& volser,
                                          std::uint64_t must_keep = 0);

  VolumeWriter(VolumeWriter&& other) noexcept;
  VolumeWriter& operator=(VolumeWriter&& other) noexcept;
  VolumeWriter(const VolumeWriter&) = delete;
  VolumeWriter& operator=(const VolumeWriter&) = delete;
  // Flushes (errors are lost: call sync() or close() to see them) and closes.
  ~VolumeWriter();

  // Compresses `plain` (zstd at `zstd_level`, raw if that does not help) and appends it.
  // `plain_sha` must be sha256(plain): callers already have it for dedup, so it is not recomputed.
  Result<BlockRef> append_chunk(const Digest& plain_sha, std::span<const std::uint8_t> plain, int zstd_level);
  // Appends a chunk compressed earlier by compress_chunk() (e.g. in a worker thread).
  Result<BlockRef> append_chunk(const Digest& plain_sha, const CompressedChunk& chunk);
  static CompressedChunk compress_chunk(std::span<const std::uint8_t> plain, int level) {
    return tape::compress_chunk(plain, level);
  }

  // Writes an end block: the volume is full/closed and open_append() will refuse it.
  Status seal();
  Status flush();
  Status sync();   // flush + fdatasync
  Status close();  // sync + close; the writer is unusable afterwards

  std::uint64_t size() const { return flushed_ + buf_.size(); }  // including buffered bytes
  std::uint64_t next_block_no() const { return next_block_; }
  std::uint64_t dropped_bytes() const { return dropped_; }
  // Why open_append() dropped bytes ("partial header at offset 1234"), empty if nothing dropped.
  const std::string& dropped_reason() const { return dropped_reason_; }
  const std::string& path() const { return path_; }
  const std::string& volser() const { return volser_; }

 private:
  VolumeWriter(UniqueFd fd, std::string path, std::string volser);
  Result<BlockRef> append_block(BlockType type, Codec codec, const Digest& sha, std::uint32_t plain_length,
                                std::span<const std::uint8_t> payload);
  Status write_at_end(const std::uint8_t* p, std::size_t n);
  Status usable() const;

  UniqueFd fd_;
  std::string path_;
  std::string volser_;
  std::uint64_t flushed_ = 0;  // bytes already handed to the kernel
  std::uint64_t next_block_ = 0;
  std::uint64_t dropped_ = 0;
  std::string dropped_reason_;
  bool sealed_ = false;
  std::optional<Error> failed_;
  std::vector<std::uint8_t> buf_;      // pending bytes, at most kBufferSize unless empty
  std::vector<std::uint8_t> scratch_;  // compression output, reused across chunks
};

}  // namespace recall::tape
