#include "tapebridge/volume_format.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "tapebridge/field_codec.h"

namespace recall::tape {
namespace {

// Header field offsets; the table in docs/volume-format.md is the reference.
constexpr std::size_t kOffMagic = 0;
constexpr std::size_t kOffVersion = 4;
constexpr std::size_t kOffType = 6;
constexpr std::size_t kOffCodec = 7;
constexpr std::size_t kOffVolser = 8;
constexpr std::size_t kOffBlockNo = 16;
constexpr std::size_t kOffPayloadLen = 24;
constexpr std::size_t kOffPlainLen = 28;
constexpr std::size_t kOffSha = 32;
constexpr std::size_t kOffCrc = 64;
constexpr std::size_t kOffReserved = 68;
static_assert(kOffReserved + 12 == kHeaderSize);

// Label payload offsets.
constexpr std::size_t kLabOffSignature = 0;
constexpr std::size_t kLabOffVersion = 8;
constexpr std::size_t kLabOffReserved1 = 10;
constexpr std::size_t kLabOffCreated = 16;
constexpr std::size_t kLabOffVolser = 24;
static_assert(kLabOffVolser + kVolserSize == kLabelPayloadSize);

Error corrupt(std::string reason) { return make_error(ErrorKind::Corrupt, std::move(reason)); }

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// zstd contexts are expensive to create (hundreds of KiB) and importers compress ~100k chunks,
// so each thread keeps one. Thread-local rather than per object keeps readers thread-safe.
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

const char* to_string(BlockType type) {
  switch (type) {
    case BlockType::Label:
      return "label";
    case BlockType::Chunk:
      return "chunk";
    case BlockType::End:
      return "end";
  }
  return "unknown";
}

const char* to_string(Codec codec) {
  switch (codec) {
    case Codec::None:
      return "none";
    case Codec::Zstd:
      return "zstd";
  }
  return "unknown";
}

Status check_volser(std::string_view volser) {
  std::uint8_t padded[kVolserSize];
  std::string parsed;
  if (volser.size() > kVolserSize) {
    return make_error(ErrorKind::Invalid, "volser '" + std::string(volser) + "' is longer than 8 characters");
  }
  put_volser(padded, volser);
  if (!get_volser(padded, parsed) || parsed != volser) {
    return make_error(ErrorKind::Invalid,
                      "volser '" + std::string(volser) + "' must be 1-8 printable characters without spaces");
  }
  return {};
}

void encode_header(const BlockHeader& h, std::uint8_t* out) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out + kOffMagic, kBlockMagic, 4);
  put_le(out + kOffVersion, h.version, 2);
  out[kOffType] = static_cast<std::uint8_t>(h.type);
  out[kOffCodec] = static_cast<std::uint8_t>(h.codec);
  put_volser(out + kOffVolser, h.volser);
  put_le(out + kOffBlockNo, h.block_no, 8);
  put_le(out + kOffPayloadLen, h.payload_length, 4);
  put_le(out + kOffPlainLen, h.plain_length, 4);
  std::memcpy(out + kOffSha, h.plain_sha.data(), h.plain_sha.size());
  put_le(out + kOffCrc, h.crc, 4);
}

Result<BlockHeader> decode_header(const std::uint8_t* in) {
  if (std::memcmp(in + kOffMagic, kBlockMagic, 4) != 0) return corrupt("bad block magic (not an RCLB block)");
  BlockHeader h;
  h.version = static_cast<std::uint16_t>(get_le(in + kOffVersion, 2));
  if (h.version != kFormatVersion) {
    return corrupt("unsupported block format version " + std::to_string(h.version));
  }
  const std::uint8_t type = in[kOffType];
  if (type < 1 || type > 3) return corrupt("unknown block type " + std::to_string(type));
  h.type = static_cast<BlockType>(type);
  const std::uint8_t codec = in[kOffCodec];
  if (codec > 1) return corrupt("unknown codec " + std::to_string(codec));
  h.codec = static_cast<Codec>(codec);
  if (!get_volser(in + kOffVolser, h.volser)) return corrupt("malformed volser field");
  if (!all_zero(in + kOffReserved, kHeaderSize - kOffReserved)) {
    return corrupt("reserved header bytes not zero");
  }
  h.block_no = get_le(in + kOffBlockNo, 8);
  h.payload_length = static_cast<std::uint32_t>(get_le(in + kOffPayloadLen, 4));
  h.plain_length = static_cast<std::uint32_t>(get_le(in + kOffPlainLen, 4));
  std::memcpy(h.plain_sha.data(), in + kOffSha, h.plain_sha.size());
  h.crc = static_cast<std::uint32_t>(get_le(in + kOffCrc, 4));

  // Lengths are checked before anyone allocates for them.
  if (h.plain_length > kMaxPlainBytes) {
    return corrupt("plain length " + std::to_string(h.plain_length) + " exceeds the 64 MiB limit");
  }
  if (h.codec == Codec::None && h.payload_length != h.plain_length) {
    return corrupt("uncompressed block with payload length " + std::to_string(h.payload_length) +
                   " != plain length " + std::to_string(h.plain_length));
  }
  // Writers store raw whenever zstd does not shrink a chunk, so a zstd payload is never larger.
  if (h.codec == Codec::Zstd && (h.payload_length == 0 || h.payload_length > h.plain_length)) {
    return corrupt("zstd payload length " + std::to_string(h.payload_length) + " not in 1.." +
                   std::to_string(h.plain_length));
  }
  switch (h.type) {
    case BlockType::Label:
      if (h.block_no != 0 || h.codec != Codec::None || h.payload_length != kLabelPayloadSize) {
        return corrupt("malformed label block header");
      }
      break;
    case BlockType::Chunk:
      if (h.block_no == 0) return corrupt("chunk block numbered 0");
      break;
    case BlockType::End:
      if (h.block_no == 0 || h.codec != Codec::None || h.payload_length != 0) {
        return corrupt("malformed end block header");
      }
      break;
  }
  return h;
}

std::uint32_t block_crc(const std::uint8_t* header, std::span<const std::uint8_t> payload) {
  std::uint8_t copy[kHeaderSize];
  std::memcpy(copy, header, kHeaderSize);
  std::memset(copy + kOffCrc, 0, 4);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, copy, kHeaderSize);
  // Payloads are at most 64 MiB, so one call never exceeds zlib's uInt length. The size check
  // matters: zlib's crc32() returns 0 for a null buffer, and an empty span may have one.
  if (!payload.empty()) crc = crc32(crc, payload.data(), static_cast<uInt>(payload.size()));
  return static_cast<std::uint32_t>(crc);
}

std::vector<std::uint8_t> encode_label(const VolumeLabel& label) {
  std::vector<std::uint8_t> out(kLabelPayloadSize, 0);
  std::memcpy(out.data() + kLabOffSignature, kLabelSignature, sizeof kLabelSignature);
  put_le(out.data() + kLabOffVersion, label.format_version, 2);
  put_le(out.data() + kLabOffCreated, static_cast<std::uint64_t>(label.created), 8);
  put_volser(out.data() + kLabOffVolser, label.volser);
  return out;
}

Result<VolumeLabel> decode_label(std::span<const std::uint8_t> payload) {
  if (payload.size() != kLabelPayloadSize) return corrupt("label payload has the wrong size");
  const std::uint8_t* p = payload.data();
  if (std::memcmp(p + kLabOffSignature, kLabelSignature, sizeof kLabelSignature) != 0) {
    return corrupt("label signature is not 'recall'");
  }
  if (!all_zero(p + kLabOffReserved1, kLabOffCreated - kLabOffReserved1)) {
    return corrupt("reserved label bytes not zero");
  }
  VolumeLabel label;
  label.format_version = static_cast<std::uint16_t>(get_le(p + kLabOffVersion, 2));
  if (label.format_version != kFormatVersion) {
    return corrupt("unsupported volume format version " + std::to_string(label.format_version));
  }
  label.created = static_cast<std::int64_t>(get_le(p + kLabOffCreated, 8));
  if (!get_volser(p + kLabOffVolser, label.volser)) return corrupt("malformed volser in label");
  return label;
}

Codec compress_into(std::span<const std::uint8_t> plain, int level, std::vector<std::uint8_t>& out) {
  ZSTD_CCtx* cctx = thread_cctx();
  if (plain.empty() || cctx == nullptr) return Codec::None;
  out.resize(ZSTD_compressBound(plain.size()));
  // The chunk's SHA-256 and the block CRC already protect it; zstd's own checksum would be a
  // third, so it stays off.
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), plain.data(), plain.size());
  if (ZSTD_isError(n) || n >= plain.size()) return Codec::None;
  out.resize(n);
  return Codec::Zstd;
}

CompressedChunk compress_chunk(std::span<const std::uint8_t> plain, int level) {
  CompressedChunk out;
  out.plain_length = static_cast<std::uint32_t>(plain.size());
  out.codec = compress_into(plain, level, out.payload);
  if (out.codec == Codec::None) out.payload.assign(plain.begin(), plain.end());
  return out;
}

Result<std::vector<std::uint8_t>> decompress_payload(Codec codec, std::span<const std::uint8_t> payload,
                                                     std::uint32_t plain_length) {
  if (plain_length > kMaxPlainBytes) return corrupt("plain length exceeds the 64 MiB limit");
  if (codec == Codec::None) {
    if (payload.size() != plain_length) return corrupt("stored length differs from plain length");
    return std::vector<std::uint8_t>(payload.begin(), payload.end());
  }
  ZSTD_DCtx* dctx = thread_dctx();
  if (dctx == nullptr) return make_error(ErrorKind::Internal, "cannot allocate a zstd context");
  std::vector<std::uint8_t> out(plain_length);
  // Decoding into a flat buffer of exactly plain_length: zstd never writes past it, and the
  // frame's own window size does not make it allocate more.
  const std::size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), payload.data(), payload.size());
  if (ZSTD_isError(n)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != plain_length) {
    return corrupt("zstd payload decodes to " + std::to_string(n) + " bytes, header says " +
                   std::to_string(plain_length));
  }
  return out;
}

void append_block_bytes(std::vector<std::uint8_t>& out, BlockType type, Codec codec, std::string_view volser,
                        std::uint64_t block_no, std::uint32_t plain_length, const Digest& plain_sha,
                        std::span<const std::uint8_t> payload) {
  BlockHeader h;
  h.type = type;
  h.codec = codec;
  h.volser = std::string(volser);
  h.block_no = block_no;
  h.payload_length = static_cast<std::uint32_t>(payload.size());
  h.plain_length = plain_length;
  h.plain_sha = plain_sha;
  std::uint8_t hdr[kHeaderSize];
  encode_header(h, hdr);
  h.crc = block_crc(hdr, payload);
  encode_header(h, hdr);
  out.insert(out.end(), hdr, hdr + kHeaderSize);
  out.insert(out.end(), payload.begin(), payload.end());
}

Result<BlockHeader> check_chunk_block(const std::uint8_t* header, std::span<const std::uint8_t> payload,
                                      std::string_view volser, const Digest& expected) {
  auto h = decode_header(header);
  if (!h.ok()) return h.error();
  if (h->type != BlockType::Chunk)
    return corrupt(std::string("is a ") + to_string(h->type) + " block, not a chunk");
  if (h->volser != volser) return corrupt("block belongs to volume " + h->volser);
  if (h->payload_length != payload.size()) {
    return corrupt("length mismatch: location says " + std::to_string(kHeaderSize + payload.size()) +
                   " bytes, block has " + std::to_string(kHeaderSize + h->payload_length));
  }
  if (block_crc(header, payload) != h->crc) return corrupt("CRC32 mismatch (header or payload damaged)");
  if (h->plain_sha != expected) {
    return corrupt("holds chunk " + to_hex(h->plain_sha) + ", expected " + to_hex(expected));
  }
  return h;
}

Result<std::vector<std::uint8_t>> chunk_plain(const BlockHeader& header, std::vector<std::uint8_t> payload) {
  std::vector<std::uint8_t> plain;
  if (header.codec == Codec::None) {
    plain = std::move(payload);
  } else {
    auto out = decompress_payload(header.codec, payload, header.plain_length);
    if (!out.ok()) return out.error();
    plain = std::move(*out);
  }
  if (sha256(plain) != header.plain_sha)
    return corrupt("SHA-256 of the plain bytes does not match the chunk id");
  return plain;
}

Result<std::vector<std::uint8_t>> decode_chunk_block(std::span<const std::uint8_t> block,
                                                     std::string_view volser, const Digest& expected) {
  if (block.size() < kHeaderSize || block.size() > kHeaderSize + kMaxPlainBytes)
    return corrupt("impossible block length " + std::to_string(block.size()));
  const auto payload = block.subspan(kHeaderSize);
  auto h = check_chunk_block(block.data(), payload, volser, expected);
  if (!h.ok()) return h.error();
  return chunk_plain(*h, std::vector<std::uint8_t>(payload.begin(), payload.end()));
}

std::string block_context(const std::string& volser, const std::string& path, std::uint64_t offset,
                          std::int64_t block_no) {
  std::string s = "volume " + volser + " (" + path + "): ";
  if (block_no >= 0) s += "block " + std::to_string(block_no) + " ";
  s += "at offset " + std::to_string(offset);
  return s;
}

}  // namespace recall::tape
