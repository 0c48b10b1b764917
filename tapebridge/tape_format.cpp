#include "tapebridge/tape_format.h"

#include <zlib.h>

#include <cstring>

#include "common/u64_blob.h"
#include "tapebridge/field_codec.h"

namespace recall::tape {
namespace {

// Record header field offsets; the table in docs/volume-format.md is the reference.
constexpr std::size_t kOffMagic = 0;
constexpr std::size_t kOffVersion = 4;
constexpr std::size_t kOffKind = 6;
constexpr std::size_t kOffFlags = 7;
constexpr std::size_t kOffVolser = 8;
constexpr std::size_t kOffRecordNo = 16;
constexpr std::size_t kOffStreamId = 24;
constexpr std::size_t kOffUsed = 28;
constexpr std::size_t kOffStreamSeq = 32;
constexpr std::size_t kOffFirstBlock = 40;
constexpr std::size_t kOffCrc = 44;
constexpr std::size_t kOffReserved = 48;
static_assert(kOffReserved + 16 == kRecordHeaderSize);
static_assert(kVolserField == kVolserSize);

Error corrupt(std::string reason) { return make_error(ErrorKind::Corrupt, std::move(reason)); }

void put_header(const RecordHeader& h, std::uint8_t* out) {
  std::memset(out, 0, kRecordHeaderSize);
  std::memcpy(out + kOffMagic, kRecordMagic, 4);
  put_le(out + kOffVersion, kTapeFormatVersion, 2);
  out[kOffKind] = static_cast<std::uint8_t>(h.kind);
  put_volser(out + kOffVolser, h.volser);
  put_le(out + kOffRecordNo, h.record_no, 8);
  put_le(out + kOffStreamId, h.stream_id, 4);
  put_le(out + kOffUsed, h.used, 4);
  put_le(out + kOffStreamSeq, h.stream_seq, 8);
  put_le(out + kOffFirstBlock, h.first_block, 4);
  put_le(out + kOffCrc, h.crc, 4);
}

std::uint32_t record_crc(const std::uint8_t* header, std::span<const std::uint8_t> used_payload) {
  std::uint8_t copy[kRecordHeaderSize];
  std::memcpy(copy, header, kRecordHeaderSize);
  std::memset(copy + kOffCrc, 0, 4);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, copy, kRecordHeaderSize);
  if (!used_payload.empty()) crc = crc32(crc, used_payload.data(), static_cast<uInt>(used_payload.size()));
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

void append_record(std::vector<std::uint8_t>& out, const RecordHeader& header,
                   std::span<const std::uint8_t> payload) {
  const std::size_t at = out.size();
  out.resize(at + kRecordSize, 0);
  std::uint8_t* rec = out.data() + at;
  const std::size_t n = std::min(payload.size(), kRecordPayload);
  if (n) std::memcpy(rec + kRecordHeaderSize, payload.data(), n);
  RecordHeader h = header;
  h.used = static_cast<std::uint32_t>(n);
  h.crc = 0;
  put_header(h, rec);
  h.crc = record_crc(rec, {rec + kRecordHeaderSize, n});
  put_header(h, rec);
}

std::vector<std::uint8_t> encode_record(const RecordHeader& header, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  out.reserve(kRecordSize);
  append_record(out, header, payload);
  return out;
}

Result<RecordHeader> check_record(std::span<const std::uint8_t> record, std::string_view volser,
                                  std::uint64_t expected_no) {
  if (record.size() != kRecordSize)
    return corrupt("record of " + std::to_string(record.size()) + " bytes, expected " +
                   std::to_string(kRecordSize));
  const std::uint8_t* p = record.data();
  if (std::memcmp(p + kOffMagic, kRecordMagic, 4) != 0) {
    // A blank (never written) region reads back as zeros on the simulated cartridge.
    return corrupt(all_zero(p, kRecordHeaderSize) ? "blank record (nothing was written here)"
                                                  : "bad record magic (not an RCLT record)");
  }
  if (get_le(p + kOffVersion, 2) != kTapeFormatVersion)
    return corrupt("unsupported tape format version " + std::to_string(get_le(p + kOffVersion, 2)));
  RecordHeader h;
  const std::uint8_t kind = p[kOffKind];
  if (kind < 1 || kind > 3) return corrupt("unknown record kind " + std::to_string(kind));
  h.kind = static_cast<RecordKind>(kind);
  if (p[kOffFlags] != 0 || !all_zero(p + kOffReserved, kRecordHeaderSize - kOffReserved))
    return corrupt("reserved record header bytes not zero");
  if (!get_volser(p + kOffVolser, h.volser)) return corrupt("malformed volser field");
  h.record_no = get_le(p + kOffRecordNo, 8);
  h.stream_id = static_cast<std::uint32_t>(get_le(p + kOffStreamId, 4));
  h.used = static_cast<std::uint32_t>(get_le(p + kOffUsed, 4));
  h.stream_seq = get_le(p + kOffStreamSeq, 8);
  h.first_block = static_cast<std::uint32_t>(get_le(p + kOffFirstBlock, 4));
  h.crc = static_cast<std::uint32_t>(get_le(p + kOffCrc, 4));
  if (h.used > kRecordPayload) return corrupt("record claims " + std::to_string(h.used) + " payload bytes");
  if (h.first_block != kNoBlockStart && h.first_block >= h.used)
    return corrupt("first block offset " + std::to_string(h.first_block) + " lies outside the used payload");
  if (record_crc(p, record.subspan(kRecordHeaderSize, h.used)) != h.crc)
    return corrupt("CRC32 mismatch (record damaged)");
  if (h.volser != volser) return corrupt("record belongs to cartridge " + h.volser);
  if (h.record_no != expected_no)
    return corrupt("record numbered " + std::to_string(h.record_no) + " where " +
                   std::to_string(expected_no) + " belongs");
  if ((h.kind == RecordKind::Label) != (expected_no == 0))
    return corrupt(h.kind == RecordKind::Label ? "label record away from the start"
                                               : "record 0 is not a label");
  return h;
}

std::vector<std::uint8_t> encode_label_record(const std::string& volser, std::int64_t created) {
  std::vector<std::uint8_t> label_block;
  const auto label = encode_label(VolumeLabel{volser, kFormatVersion, created});
  append_block_bytes(label_block, BlockType::Label, Codec::None, volser, 0,
                     static_cast<std::uint32_t>(label.size()), sha256(label), label);
  RecordHeader h;
  h.kind = RecordKind::Label;
  h.volser = volser;
  h.record_no = 0;
  h.first_block = 0;
  return encode_record(h, label_block);
}

Result<VolumeLabel> decode_label_record(std::span<const std::uint8_t> record, std::string_view volser) {
  auto h = check_record(record, volser, 0);
  if (!h.ok()) return h.error();
  if (h->used != kHeaderSize + kLabelPayloadSize) return corrupt("label record holds no label block");
  const std::uint8_t* block = record.data() + kRecordHeaderSize;
  auto bh = decode_header(block);
  if (!bh.ok()) return bh.error();
  const std::span<const std::uint8_t> payload(block + kHeaderSize, kLabelPayloadSize);
  if (bh->type != BlockType::Label || block_crc(block, payload) != bh->crc)
    return corrupt("damaged label block");
  auto label = decode_label(payload);
  if (!label.ok()) return label.error();
  if (label->volser != volser) return corrupt("label names cartridge " + label->volser);
  return label;
}

std::vector<std::uint64_t> TapeBlockRef::records() const {
  std::vector<std::uint64_t> out{first_record()};
  out.insert(out.end(), span.begin(), span.end());
  return out;
}

Status check_block_ref(const TapeBlockRef& ref) {
  const std::uint64_t in_record = ref.offset % kRecordSize;
  if (ref.first_record() == 0 || in_record < kRecordHeaderSize)
    return corrupt("tape location " + std::to_string(ref.offset) + " is not inside a data record's payload");
  if (ref.length < kHeaderSize || ref.length > kHeaderSize + kMaxPlainBytes)
    return corrupt("impossible block length " + std::to_string(ref.length));
  const std::uint64_t first_piece =
      std::min<std::uint64_t>(ref.length, kRecordPayload - ref.payload_offset());
  const std::uint64_t rest = ref.length - first_piece;
  const std::uint64_t needed = (rest + kRecordPayload - 1) / kRecordPayload;
  if (ref.span.size() != needed)
    return corrupt("tape location lists " + std::to_string(ref.span.size()) +
                   " continuation records, its length needs " + std::to_string(needed));
  std::uint64_t prev = ref.first_record();
  for (std::uint64_t r : ref.span) {
    if (r <= prev) return corrupt("continuation records out of order");
    prev = r;
  }
  return {};
}

std::vector<std::uint8_t> encode_span(const std::vector<std::uint64_t>& span) {
  return encode_u64_blob(span);
}

Result<std::vector<std::uint64_t>> decode_span(std::span<const std::uint8_t> blob) {
  return decode_u64_blob(blob);
}

Result<std::vector<std::uint8_t>> gather_block(const TapeBlockRef& ref, const RecordLookup& record_at) {
  RECALL_TRY(check_block_ref(ref));
  std::vector<std::uint8_t> out;
  out.reserve(ref.length);
  std::uint64_t from = ref.payload_offset();
  for (std::uint64_t r : ref.records()) {
    auto rec = record_at(r);
    if (rec.size() != kRecordSize)
      return corrupt("record " + std::to_string(r) + " of the block was not read");
    const std::uint64_t used = get_le(rec.data() + kOffUsed, 4);
    const std::uint64_t want = std::min<std::uint64_t>(ref.length - out.size(), kRecordPayload - from);
    if (from + want > used)
      return corrupt("record " + std::to_string(r) + " holds " + std::to_string(used) +
                     " payload bytes; the block needs bytes up to " + std::to_string(from + want));
    const std::uint8_t* p = rec.data() + kRecordHeaderSize + from;
    out.insert(out.end(), p, p + want);
    from = 0;
  }
  return out;
}

std::string record_context(std::string_view volser, std::uint64_t record_no) {
  return "cartridge " + std::string(volser) + ": record " + std::to_string(record_no);
}

}  // namespace recall::tape
