#include "catalogd/daemon/archive_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "catalogd/store/rows.h"
#include "restic/blob.h"

namespace recall::daemon {

Result<ArchiveReader> ArchiveReader::open(const std::string& path, const std::string& volser,
                                          std::optional<restic::Key> key) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error("archive " + volser + " (" + path + ")", errno);
  return ArchiveReader(UniqueFd(fd), path, volser, std::move(key));
}

Result<std::vector<std::uint8_t>> ArchiveReader::read_chunk(std::uint64_t offset, std::uint32_t length,
                                                            const Digest& sha, int codec,
                                                            std::uint64_t size) const {
  std::vector<std::uint8_t> out(length);
  std::size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd_.get(), out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return io_error("archive " + volser_ + " (" + path_ + ") at offset " + std::to_string(offset), errno);
    if (n == 0)
      return make_error(ErrorKind::Corrupt, "archive " + volser_ + " (" + path_ + "): ends before offset " +
                                                std::to_string(offset + length) + " (truncated?)");
    got += static_cast<std::size_t>(n);
  }
  if (codec == store::kCodecResticBlob || codec == store::kCodecResticZstd) {
    if (!key_)
      return make_error(ErrorKind::Corrupt,
                        "archive " + volser_ + " (" + path_ +
                            "): an encrypted chunk, and recalld has no key for this volume");
    if (size > UINT32_MAX) return make_error(ErrorKind::Corrupt, "archive " + volser_ + ": chunk too large");
    auto plain = restic::decode_blob(
        *key_, out, codec == store::kCodecResticZstd ? static_cast<std::uint32_t>(size) : 0, sha);
    if (!plain.ok())
      return make_error(ErrorKind::Corrupt, "archive " + volser_ + " (" + path_ + "): the blob at offset " +
                                                std::to_string(offset) + ": " + plain.error().message);
    return plain;
  }
  if (codec != store::kCodecArchivePlain)
    return make_error(ErrorKind::Corrupt, "archive " + volser_ + ": unknown codec " + std::to_string(codec));
  if (sha256(out) != sha)
    return make_error(ErrorKind::Corrupt,
                      "archive " + volser_ + " (" + path_ + "): the " + std::to_string(length) +
                          " bytes at offset " + std::to_string(offset) +
                          " do not match their SHA-256 (the archive changed since the import?)");
  return out;
}

}  // namespace recall::daemon
