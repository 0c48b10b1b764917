#include "tapebridge/volume_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace recall::tape {

Result<UniqueFd> open_volume_file(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == EEXIST) return make_error(ErrorKind::Conflict, "volume file " + path + " already exists");
    if (errno == ENOENT) return make_error(ErrorKind::NotFound, "volume file " + path + " does not exist");
    return io_error("open " + path, errno);
  }
  return UniqueFd(fd);
}

Result<std::uint64_t> file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("stat " + path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Result<std::size_t> pread_full(int fd, void* buf, std::size_t n, std::uint64_t offset,
                               const std::string& path) {
  auto* p = static_cast<std::uint8_t*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error("read " + path + " at offset " + std::to_string(offset + done), errno);
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Status pwrite_full(int fd, const void* buf, std::size_t n, std::uint64_t offset, const std::string& path) {
  const auto* p = static_cast<const std::uint8_t*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error("write " + path + " at offset " + std::to_string(offset + done), errno);
    }
    done += static_cast<std::size_t>(r);
  }
  return {};
}

Result<VolumeLabel> read_label_block(int fd, const std::string& path, const std::string& expected_volser) {
  const std::string who = expected_volser.empty() ? std::string("?") : expected_volser;
  auto corrupt = [&](const std::string& reason) {
    return make_error(ErrorKind::Corrupt, block_context(who, path, 0, 0) + ": " + reason);
  };
  std::uint8_t buf[kLabelBlockSize];
  auto got = pread_full(fd, buf, sizeof buf, 0, path);
  if (!got.ok()) return got.error();
  if (*got < sizeof buf) {
    return corrupt("file too short for a volume label (" + std::to_string(*got) + " bytes)");
  }
  auto header = decode_header(buf);
  if (!header.ok()) return corrupt(header.error().message);
  if (header->type != BlockType::Label) return corrupt("first block is not a label");
  const std::span<const std::uint8_t> payload(buf + kHeaderSize, kLabelPayloadSize);
  if (block_crc(buf, payload) != header->crc) return corrupt("label CRC32 mismatch");
  if (sha256(payload) != header->plain_sha) return corrupt("label SHA-256 mismatch");
  auto label = decode_label(payload);
  if (!label.ok()) return corrupt(label.error().message);
  if (label->volser != header->volser) return corrupt("label and header name different volumes");
  if (!expected_volser.empty() && label->volser != expected_volser) {
    return corrupt("label names volume " + label->volser + ", expected " + expected_volser);
  }
  return label;
}

}  // namespace recall::tape
