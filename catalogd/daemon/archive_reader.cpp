#include "catalogd/daemon/archive_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace recall::daemon {

Result<ArchiveReader> ArchiveReader::open(const std::string& path, const std::string& volser) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error("archive " + volser + " (" + path + ")", errno);
  return ArchiveReader(UniqueFd(fd), path, volser);
}

Result<std::vector<std::uint8_t>> ArchiveReader::read_chunk(std::uint64_t offset, std::uint32_t length,
                                                            const Digest& sha) const {
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
  if (sha256(out) != sha)
    return make_error(ErrorKind::Corrupt,
                      "archive " + volser_ + " (" + path_ + "): the " + std::to_string(length) +
                          " bytes at offset " + std::to_string(offset) +
                          " do not match their SHA-256 (the archive changed since the import?)");
  return out;
}

}  // namespace recall::daemon
