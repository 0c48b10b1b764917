// Reads chunks in place from an archive another tool wrote (a volume of kind 'archive'): a tar
// file, where a chunk is `length` plain bytes at `offset`, or a restic pack, where it is a blob's
// envelope there, opened with the repository's key (and decompressed in format v2). A chunk is
// trusted only after its SHA-256 matches the catalog's. Thread-safe: reads are pread()s on one
// descriptor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "restic/crypto.h"

namespace recall::daemon {

class ArchiveReader {
 public:
  // `key`: the restic repository key its blobs need (none for a tar file).
  static Result<ArchiveReader> open(const std::string& path, const std::string& volser,
                                    std::optional<restic::Key> key = std::nullopt);

  // The plain bytes of one chunk stored with `codec` (store::kCodec*) in `length` bytes at `offset`:
  // Corrupt when they are short (a truncated archive), fail to authenticate or decompress to
  // `size` bytes, or do not match `sha`.
  Result<std::vector<std::uint8_t>> read_chunk(std::uint64_t offset, std::uint32_t length, const Digest& sha,
                                               int codec = 0, std::uint64_t size = 0) const;

 private:
  ArchiveReader(UniqueFd fd, std::string path, std::string volser, std::optional<restic::Key> key)
      : fd_(std::move(fd)), path_(std::move(path)), volser_(std::move(volser)), key_(std::move(key)) {}
  UniqueFd fd_;
  std::string path_, volser_;
  std::optional<restic::Key> key_;
};

}  // namespace recall::daemon
