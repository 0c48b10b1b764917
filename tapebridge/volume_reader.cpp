#include "tapebridge/volume_reader.h"

#include <fcntl.h>
#include <sys/uio.h>

#include <cerrno>

namespace recall::tape {

Result<VolumeReader> VolumeReader::open(const std::string& path, const std::string& expected_volser) {
  RECALL_TRY(check_volser(expected_volser));
  auto fd = open_volume_file(path, O_RDONLY);
  if (!fd.ok()) return fd.error();
  auto label = read_label_block(fd->get(), path, expected_volser);
  if (!label.ok()) return label.error();
  return VolumeReader(std::move(*fd), path, std::move(*label));
}

Result<std::vector<std::uint8_t>> VolumeReader::read_chunk(std::uint64_t offset, std::uint32_t length,
                                                           const Digest& expected) const {
  std::int64_t block_no = -1;
  auto corrupt = [&](const std::string& reason) {
    return make_error(ErrorKind::Corrupt,
                      block_context(label_.volser, path_, offset, block_no) + ": " + reason);
  };
  // The location comes from the catalog; check it before allocating anything for it.
  if (length < kHeaderSize || length > kHeaderSize + kMaxPlainBytes) {
    return corrupt("impossible block length " + std::to_string(length));
  }
  if (offset < kLabelBlockSize) return corrupt("offset lies inside the label block");

  // Header and payload in one syscall, each into its own buffer, so a raw chunk's payload is
  // returned without another copy.
  std::uint8_t hdr[kHeaderSize];
  std::vector<std::uint8_t> payload(length - kHeaderSize);
  std::size_t got = 0;
  while (got < length) {
    iovec iov[2];
    int n = 0;
    if (got < kHeaderSize) iov[n++] = {hdr + got, kHeaderSize - got};
    const std::size_t payload_got = got > kHeaderSize ? got - kHeaderSize : 0;
    if (payload_got < payload.size()) iov[n++] = {payload.data() + payload_got, payload.size() - payload_got};
    const ssize_t r = ::preadv(fd_.get(), iov, n, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return io_error(block_context(label_.volser, path_, offset) + ": read", errno);
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got < length) {
    return corrupt("truncated: only " + std::to_string(got) + " of " + std::to_string(length) +
                   " bytes present");
  }

  auto h = decode_header(hdr);
  if (!h.ok()) return corrupt(h.error().message);
  block_no = static_cast<std::int64_t>(h->block_no);
  if (h->type != BlockType::Chunk) {
    return corrupt(std::string("is a ") + to_string(h->type) + " block, not a chunk");
  }
  if (h->volser != label_.volser) return corrupt("block belongs to volume " + h->volser);
  if (h->payload_length != payload.size()) {
    return corrupt("length mismatch: location says " + std::to_string(length) + " bytes, block has " +
                   std::to_string(kHeaderSize + h->payload_length));
  }
  const std::uint32_t crc = block_crc(hdr, payload);
  if (crc != h->crc) return corrupt("CRC32 mismatch (header or payload damaged)");
  if (h->plain_sha != expected) {
    return corrupt("holds chunk " + to_hex(h->plain_sha) + ", expected " + to_hex(expected));
  }

  std::vector<std::uint8_t> plain;
  if (h->codec == Codec::None) {
    plain = std::move(payload);
  } else {
    auto out = decompress_payload(h->codec, payload, h->plain_length);
    if (!out.ok()) return corrupt(out.error().message);
    plain = std::move(*out);
  }
  // The CRC catches media damage; this catches everything else (a writer bug, a wrong codec).
  if (sha256(plain) != expected) return corrupt("SHA-256 of the plain bytes does not match the chunk id");
  return plain;
}

Result<VolumeScanner> VolumeScanner::open(const std::string& path, const std::string& expected_volser,
                                          ScanOptions options) {
  if (!expected_volser.empty()) RECALL_TRY(check_volser(expected_volser));
  auto fd = open_volume_file(path, O_RDONLY);
  if (!fd.ok()) return fd.error();
  auto label = read_label_block(fd->get(), path, expected_volser);
  if (!label.ok()) return label.error();
  auto size = tape::file_size(fd->get(), path);
  if (!size.ok()) return size.error();
#ifdef POSIX_FADV_SEQUENTIAL
  (void)::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_SEQUENTIAL);  // bigger readahead, like a tape stream
#endif
  return VolumeScanner(std::move(*fd), path, std::move(*label), *size, options);
}

Error VolumeScanner::fail(std::uint64_t offset, std::int64_t block_no, const std::string& reason) {
  error_ =
      make_error(ErrorKind::Corrupt, block_context(label_.volser, path_, offset, block_no) + ": " + reason);
  return *error_;
}

Result<std::optional<ScannedBlock>> VolumeScanner::next() {
  if (error_) return *error_;
  payload_.clear();
  const std::uint64_t off = pos_;
  if (off == size_) return std::optional<ScannedBlock>();
  if (ended_) return fail(off, -1, std::to_string(size_ - off) + " bytes after the end block");
  if (size_ - off < kHeaderSize) {
    return fail(off, -1,
                "truncated tail: " + std::to_string(size_ - off) + " bytes, too short for a block header");
  }
  std::uint8_t hdr[kHeaderSize];
  auto got = pread_full(fd_.get(), hdr, kHeaderSize, off, path_);
  if (!got.ok()) return got.error();
  if (*got < kHeaderSize) return fail(off, -1, "file shrank while scanning");
  auto h = decode_header(hdr);
  if (!h.ok()) return fail(off, -1, h.error().message);
  const auto block_no = static_cast<std::int64_t>(h->block_no);
  if (h->volser != label_.volser) return fail(off, block_no, "block belongs to volume " + h->volser);
  if (h->block_no != next_block_) return fail(off, block_no, "expected block " + std::to_string(next_block_));
  const std::uint64_t length = kHeaderSize + std::uint64_t{h->payload_length};
  // Checked against the file before reading, so a garbled length cannot make us allocate.
  if (length > size_ - off) {
    return fail(off, block_no,
                "truncated tail: block needs " + std::to_string(length) + " bytes, " +
                    std::to_string(size_ - off) + " left");
  }
  if (options_.verify_crc) {
    payload_.resize(h->payload_length);
    auto p = pread_full(fd_.get(), payload_.data(), payload_.size(), off + kHeaderSize, path_);
    if (!p.ok()) return p.error();
    if (*p < payload_.size()) return fail(off, block_no, "file shrank while scanning");
    if (block_crc(hdr, payload_) != h->crc) {
      return fail(off, block_no, "CRC32 mismatch (header or payload damaged)");
    }
  }
  if (h->type == BlockType::End) ended_ = true;
  pos_ = off + length;
  ++next_block_;
  return std::optional<ScannedBlock>(ScannedBlock{std::move(*h), off, static_cast<std::uint32_t>(length)});
}

}  // namespace recall::tape
