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

Error VolumeReader::corrupt_at(std::uint64_t offset, std::int64_t block_no, const std::string& reason) const {
  return make_error(ErrorKind::Corrupt,
                    block_context(label_.volser, path_, offset, block_no) + ": " + reason);
}

Result<VolumeReader::StoredBlock> VolumeReader::read_checked(std::uint64_t offset, std::uint32_t length,
                                                             const Digest& expected) const {
  // The location comes from the catalog; check it before allocating anything for it.
  if (length < kHeaderSize || length > kHeaderSize + kMaxPlainBytes) {
    return corrupt_at(offset, -1, "impossible block length " + std::to_string(length));
  }
  if (offset < kLabelBlockSize) return corrupt_at(offset, -1, "offset lies inside the label block");

  // Header and payload in one syscall, each into its own buffer, so a raw chunk's payload is
  // returned without another copy.
  std::uint8_t hdr[kHeaderSize];
  StoredBlock out;
  std::vector<std::uint8_t>& payload = out.payload;
  payload.resize(length - kHeaderSize);
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
    return corrupt_at(
        offset, -1,
        "truncated: only " + std::to_string(got) + " of " + std::to_string(length) + " bytes present");
  }
  // The block number for the message, if the header parses at all.
  std::int64_t block_no = -1;
  if (auto parsed = decode_header(hdr); parsed.ok()) block_no = static_cast<std::int64_t>(parsed->block_no);
  auto h = check_chunk_block(hdr, payload, label_.volser, expected);
  if (!h.ok()) return corrupt_at(offset, block_no, h.error().message);
  out.header = std::move(*h);
  return out;
}

Result<std::vector<std::uint8_t>> VolumeReader::read_chunk(std::uint64_t offset, std::uint32_t length,
                                                           const Digest& expected) const {
  auto block = read_checked(offset, length, expected);
  if (!block.ok()) return block.error();
  auto plain = chunk_plain(block->header, std::move(block->payload));
  if (!plain.ok())
    return corrupt_at(offset, static_cast<std::int64_t>(block->header.block_no), plain.error().message);
  return plain;
}

Result<VolumeReader::StoredBlock> VolumeReader::read_block(std::uint64_t offset, std::uint32_t length,
                                                           const Digest& expected) const {
  auto block = read_checked(offset, length, expected);
  if (!block.ok()) return block.error();
  if (block->header.codec == Codec::None) {
    if (sha256(block->payload) != expected)
      return corrupt_at(offset, static_cast<std::int64_t>(block->header.block_no),
                        "SHA-256 of the plain bytes does not match the chunk id");
    return block;
  }
  auto plain = decompress_payload(block->header.codec, block->payload, block->header.plain_length);
  if (!plain.ok() || sha256(*plain) != expected)
    return corrupt_at(
        offset, static_cast<std::int64_t>(block->header.block_no),
        plain.ok() ? "SHA-256 of the plain bytes does not match the chunk id" : plain.error().message);
  return block;
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
