// Reads chunks in place from an archive another tool wrote (a tar file registered as a volume of
// kind 'archive'): a chunk is `length` plain bytes at `offset` in the file, trusted only after its
// SHA-256 matches the catalog's. Thread-safe: reads are pread()s on one descriptor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace recall::daemon {

class ArchiveReader {
 public:
  static Result<ArchiveReader> open(const std::string& path, const std::string& volser);

  // The bytes of one chunk: Corrupt when they are short (a truncated archive) or do not match `sha`.
  Result<std::vector<std::uint8_t>> read_chunk(std::uint64_t offset, std::uint32_t length,
                                               const Digest& sha) const;

 private:
  ArchiveReader(UniqueFd fd, std::string path, std::string volser)
      : fd_(std::move(fd)), path_(std::move(path)), volser_(std::move(volser)) {}
  UniqueFd fd_;
  std::string path_, volser_;
};

}  // namespace recall::daemon
