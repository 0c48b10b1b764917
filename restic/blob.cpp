#include "restic/blob.h"

#include <zstd.h>

#include <memory>

namespace recall::restic {
namespace {

struct DStreamFree {
  void operator()(ZSTD_DStream* d) const { ZSTD_freeDStream(d); }
};

}  // namespace

Result<std::vector<std::uint8_t>> zstd_decompress(std::span<const std::uint8_t> frame, std::size_t limit) {
  std::unique_ptr<ZSTD_DStream, DStreamFree> d(ZSTD_createDStream());
  if (!d) return make_error(ErrorKind::Internal, "zstd: cannot create a decompression stream");
  std::vector<std::uint8_t> out;
  const auto declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return make_error(ErrorKind::Corrupt, "not a zstd frame");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (declared > limit)
      return make_error(ErrorKind::Corrupt, "zstd frame claims " + std::to_string(declared) + " bytes");
    out.reserve(static_cast<std::size_t>(declared));
  }
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  std::vector<std::uint8_t> buf(ZSTD_DStreamOutSize());
  std::size_t last = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(d.get(), &ob, &in);
    if (ZSTD_isError(last))
      return make_error(ErrorKind::Corrupt, std::string("zstd: ") + ZSTD_getErrorName(last));
    if (out.size() + ob.pos > limit)
      return make_error(ErrorKind::Corrupt, "zstd frame decodes past its limit");
    out.insert(out.end(), buf.data(), buf.data() + ob.pos);
    if (last == 0 && in.pos < in.size) return make_error(ErrorKind::Corrupt, "bytes after the zstd frame");
  }
  // Flush what the decoder still holds.
  while (last != 0) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(d.get(), &ob, &in);
    if (ZSTD_isError(last))
      return make_error(ErrorKind::Corrupt, std::string("zstd: ") + ZSTD_getErrorName(last));
    if (ob.pos == 0 && last != 0) return make_error(ErrorKind::Corrupt, "zstd frame is truncated");
    if (out.size() + ob.pos > limit)
      return make_error(ErrorKind::Corrupt, "zstd frame decodes past its limit");
    out.insert(out.end(), buf.data(), buf.data() + ob.pos);
  }
  return out;
}

Result<std::string> unpacked_json(std::vector<std::uint8_t> plain, int repo_version) {
  if (repo_version < 2 || plain.empty() || plain[0] == '{' || plain[0] == '[')
    return std::string(plain.begin(), plain.end());
  if (plain[0] != 0x02)
    return make_error(ErrorKind::Corrupt, "unsupported encoding byte " + std::to_string(plain[0]));
  auto d = zstd_decompress(std::span<const std::uint8_t>(plain).subspan(1), kMaxDecoded);
  if (!d.ok()) return d.error();
  return std::string(d->begin(), d->end());
}

Result<std::vector<std::uint8_t>> decode_blob(const Key& key, std::span<const std::uint8_t> envelope,
                                              std::uint32_t uncompressed_length, const Digest& id) {
  auto plain = open_envelope(key, envelope);
  if (!plain.ok()) return plain.error();
  if (uncompressed_length != 0) {
    auto d = zstd_decompress(*plain, uncompressed_length);
    if (!d.ok()) return d.error();
    if (d->size() != uncompressed_length)
      return make_error(ErrorKind::Corrupt, "blob decompresses to " + std::to_string(d->size()) +
                                                " bytes, not " + std::to_string(uncompressed_length));
    plain = std::move(*d);
  }
  if (sha256(*plain) != id) return make_error(ErrorKind::Corrupt, "blob does not match its ID (SHA-256)");
  return plain;
}

}  // namespace recall::restic
