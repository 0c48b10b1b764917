#include "tapebridge/volume_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/time.h"

namespace recall::tape {
namespace {

// Makes the new directory entry durable too: a synced file under an unsynced name can vanish.
Status sync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto fd = open_volume_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.error();
  if (::fsync(fd->get()) != 0) return io_error("fsync " + dir, errno);
  return {};
}

// Where the valid prefix of an existing volume ends, found by open_append().
struct TailScan {
  std::uint64_t good_end = kLabelBlockSize;
  std::uint64_t next_block = 1;
  bool sealed = false;
  std::string reason;  // why the bytes after good_end are not blocks
};

// Walks the header chain from block 1; stops at the first thing that is not a complete block
// of this volume with the next block number. Only headers are read: reopening a volume of
// 100k chunks costs 100k small preads, not a read of the whole volume.
Result<TailScan> walk_headers(int fd, const std::string& path, const std::string& volser, std::uint64_t size,
                              std::vector<std::uint64_t>& offsets) {
  TailScan t;
  std::uint64_t off = kLabelBlockSize;
  while (off < size) {
    const std::string at = "at offset " + std::to_string(off);
    if (size - off < kHeaderSize) {
      t.reason = "partial header " + at;
      break;
    }
    std::uint8_t hdr[kHeaderSize];
    auto got = pread_full(fd, hdr, kHeaderSize, off, path);
    if (!got.ok()) return got.error();
    auto h = decode_header(hdr);
    if (!h.ok()) {
      t.reason = h.error().message + " " + at;
      break;
    }
    if (h->volser != volser || h->block_no != t.next_block) {
      t.reason = "block " + std::to_string(h->block_no) + " of " + h->volser + " " + at +
                 ", expected block " + std::to_string(t.next_block);
      break;
    }
    const std::uint64_t end = off + kHeaderSize + h->payload_length;
    if (end > size) {
      t.reason = "block " + std::to_string(h->block_no) + " " + at + " cut short";
      break;
    }
    if (h->type == BlockType::End) {
      t.sealed = true;
      break;
    }
    offsets.push_back(off);
    off = end;
    t.good_end = end;
    ++t.next_block;
  }
  return t;
}

// Drops trailing blocks whose CRC fails: a crash can persist a block's header and length
// but not all of its payload pages.
Status drop_bad_trailing_blocks(int fd, const std::string& path, std::vector<std::uint64_t>& offsets,
                                TailScan& t) {
  std::vector<std::uint8_t> block;
  while (!offsets.empty()) {
    const std::uint64_t off = offsets.back();
    block.resize(t.good_end - off);
    auto got = pread_full(fd, block.data(), block.size(), off, path);
    if (!got.ok()) return got.error();
    auto h = decode_header(block.data());
    const std::span<const std::uint8_t> payload(block.data() + kHeaderSize, block.size() - kHeaderSize);
    if (*got == block.size() && h.ok() && block_crc(block.data(), payload) == h->crc) break;
    t.reason =
        "CRC32 mismatch in block " + std::to_string(t.next_block - 1) + " at offset " + std::to_string(off);
    t.good_end = off;
    --t.next_block;
    offsets.pop_back();
  }
  return {};
}

}  // namespace

VolumeWriter::VolumeWriter(UniqueFd fd, std::string path, std::string volser)
    : fd_(std::move(fd)), path_(std::move(path)), volser_(std::move(volser)) {
  buf_.reserve(kBufferSize);
}

VolumeWriter::VolumeWriter(VolumeWriter&& other) noexcept { *this = std::move(other); }

VolumeWriter& VolumeWriter::operator=(VolumeWriter&& other) noexcept {
  if (this == &other) return *this;
  if (fd_.get() >= 0) (void)flush();  // as the destructor would for the volume we let go of
  fd_ = std::move(other.fd_);
  path_ = std::move(other.path_);
  volser_ = std::move(other.volser_);
  flushed_ = other.flushed_;
  next_block_ = other.next_block_;
  dropped_ = other.dropped_;
  dropped_reason_ = std::move(other.dropped_reason_);
  sealed_ = other.sealed_;
  failed_ = std::move(other.failed_);
  buf_ = std::move(other.buf_);
  scratch_ = std::move(other.scratch_);
  other.buf_.clear();
  return *this;
}

VolumeWriter::~VolumeWriter() {
  if (fd_.get() >= 0) (void)flush();
}

Result<VolumeWriter> VolumeWriter::create(const std::string& path, const std::string& volser) {
  RECALL_TRY(check_volser(volser));
  auto fd = open_volume_file(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!fd.ok()) return fd.error();
  VolumeWriter w(std::move(*fd), path, volser);
  const std::vector<std::uint8_t> label = encode_label(VolumeLabel{volser, kFormatVersion, now_utc()});
  auto written = w.append_block(BlockType::Label, Codec::None, sha256(label),
                                static_cast<std::uint32_t>(label.size()), label);
  Status st = written.ok() ? w.sync() : Status(written.error());
  if (st.ok()) st = sync_parent_dir(path);
  if (!st.ok()) {
    // Leave no half-made volume behind: it would block a retry with "already exists".
    w.fd_.reset();
    ::unlink(path.c_str());
    return st.error();
  }
  return w;
}

Result<VolumeWriter> VolumeWriter::open_append(const std::string& path, const std::string& volser,
                                               std::uint64_t must_keep) {
  RECALL_TRY(check_volser(volser));
  auto fd = open_volume_file(path, O_RDWR);
  if (!fd.ok()) return fd.error();
  auto label = read_label_block(fd->get(), path, volser);
  if (!label.ok()) return label.error();
  auto size = file_size(fd->get(), path);
  if (!size.ok()) return size.error();

  std::vector<std::uint64_t> offsets;
  auto tail = walk_headers(fd->get(), path, volser, *size, offsets);
  if (!tail.ok()) return tail.error();
  if (tail->sealed) {
    return make_error(ErrorKind::Conflict, "volume " + volser + " (" + path + ") is sealed; no more appends");
  }
  RECALL_TRY(drop_bad_trailing_blocks(fd->get(), path, offsets, *tail));
  if (tail->good_end < must_keep) {
    return make_error(ErrorKind::Corrupt, block_context(volser, path, tail->good_end) + ": " + tail->reason +
                                              ", but the catalog references bytes up to " +
                                              std::to_string(must_keep) + "; not truncating");
  }

  VolumeWriter w(std::move(*fd), path, volser);
  w.flushed_ = tail->good_end;
  w.next_block_ = tail->next_block;
  if (tail->good_end < *size) {
    if (::ftruncate(w.fd_.get(), static_cast<off_t>(tail->good_end)) != 0) {
      return io_error("truncate " + path, errno);
    }
    if (::fdatasync(w.fd_.get()) != 0) return io_error("fdatasync " + path, errno);
    w.dropped_ = *size - tail->good_end;
    w.dropped_reason_ = tail->reason;
  }
  return w;
}

Status VolumeWriter::usable() const {
  if (failed_) return *failed_;
  if (fd_.get() < 0) return make_error(ErrorKind::Internal, "volume writer for " + path_ + " is closed");
  if (sealed_) return make_error(ErrorKind::Conflict, "volume " + volser_ + " (" + path_ + ") is sealed");
  return {};
}

Result<BlockRef> VolumeWriter::append_chunk(const Digest& plain_sha, std::span<const std::uint8_t> plain,
                                            int zstd_level) {
  if (plain.size() > kMaxPlainBytes) {
    return make_error(ErrorKind::Invalid,
                      "chunk of " + std::to_string(plain.size()) + " bytes exceeds 64 MiB");
  }
  const Codec codec = compress_into(plain, zstd_level, scratch_);
  const std::span<const std::uint8_t> payload =
      codec == Codec::Zstd ? std::span<const std::uint8_t>(scratch_) : plain;
  return append_block(BlockType::Chunk, codec, plain_sha, static_cast<std::uint32_t>(plain.size()), payload);
}

Result<BlockRef> VolumeWriter::append_chunk(const Digest& plain_sha, const CompressedChunk& chunk) {
  // These are the same relations a reader enforces; refusing them here keeps the error at the
  // caller's bug instead of in a volume that fails verification later.
  const std::size_t n = chunk.payload.size();
  bool ok = chunk.plain_length <= kMaxPlainBytes;
  if (chunk.codec == Codec::None) {
    ok = ok && n == chunk.plain_length;
  } else if (chunk.codec == Codec::Zstd) {
    ok = ok && n > 0 && n <= chunk.plain_length &&
         ZSTD_getFrameContentSize(chunk.payload.data(), n) == chunk.plain_length;
  } else {
    ok = false;
  }
  if (!ok) return make_error(ErrorKind::Invalid, "compressed chunk for " + volser_ + " is inconsistent");
  return append_block(BlockType::Chunk, chunk.codec, plain_sha, chunk.plain_length, chunk.payload);
}

Status VolumeWriter::seal() {
  RECALL_TRY(usable());
  auto r = append_block(BlockType::End, Codec::None, sha256(std::span<const std::uint8_t>()), 0, {});
  if (!r.ok()) return r.error();
  sealed_ = true;
  return sync();
}

Result<BlockRef> VolumeWriter::append_block(BlockType type, Codec codec, const Digest& sha,
                                            std::uint32_t plain_length,
                                            std::span<const std::uint8_t> payload) {
  RECALL_TRY(usable());
  const auto length = static_cast<std::uint32_t>(kHeaderSize + payload.size());
  const BlockRef ref{next_block_, size(), length, static_cast<std::uint32_t>(payload.size()), codec};
  if (buf_.size() + length > kBufferSize) RECALL_TRY(flush());
  append_block_bytes(buf_, type, codec, volser_, next_block_, plain_length, sha, payload);
  // A block bigger than the whole buffer goes out at once (the buffer held nothing else).
  if (buf_.size() > kBufferSize) RECALL_TRY(flush());
  ++next_block_;
  return ref;
}

Status VolumeWriter::write_at_end(const std::uint8_t* p, std::size_t n) {
  Status st = pwrite_full(fd_.get(), p, n, flushed_, path_);
  if (!st.ok()) {
    failed_ = st.error();
    return st;
  }
  flushed_ += n;
  return {};
}

Status VolumeWriter::flush() {
  if (failed_) return *failed_;
  if (buf_.empty() || fd_.get() < 0) return {};
  RECALL_TRY(write_at_end(buf_.data(), buf_.size()));
  buf_.clear();
  return {};
}

Status VolumeWriter::sync() {
  RECALL_TRY(flush());
  if (fd_.get() >= 0 && ::fdatasync(fd_.get()) != 0) {
    failed_ = io_error("fdatasync " + path_, errno);
    return *failed_;
  }
  return {};
}

Status VolumeWriter::close() {
  Status st = sync();
  fd_.reset();
  return st;
}

}  // namespace recall::tape
