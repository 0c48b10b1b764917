// How chunk blocks sit on a tape cartridge (docs/volume-format.md, "Tape cartridges").
//
// A cartridge is a sequence of fixed-size 256 KiB records, the unit a drive reads and writes.
// Record 0 is the label; every other record is a *superblock* holding bytes of exactly one
// migration stream, so several streams can share one drive (ExHPDM's stream interleaving) while
// the drive writes full records at full speed. A stream's bytes are the ordinary chunk blocks of
// the volume format, back to back; a block that does not fit in what is left of a record goes
// on in the stream's next record (which may come after other streams' records).
//
// Rules that let a reader find a block from its catalog location alone:
// - only a full record may end inside a block; a record written short (a flush at a commit
//   point, or the last one of a stream) ends on a block boundary;
// - so a block starting at payload offset `o` of record `r` has its pieces in `r` (up to the end
//   of that payload) and then from payload offset 0 of each continuation record, listed in the
//   location's span, each holding min(rest, kRecordPayload) bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tapebridge/volume_format.h"

namespace recall::tape {

inline constexpr std::size_t kRecordSize = 256 * 1024;
inline constexpr std::size_t kRecordHeaderSize = 64;
inline constexpr std::size_t kRecordPayload = kRecordSize - kRecordHeaderSize;
inline constexpr char kRecordMagic[4] = {'R', 'C', 'L', 'T'};
inline constexpr std::uint16_t kTapeFormatVersion = 1;
// first_block of a record that holds only the continuation of a block begun earlier.
inline constexpr std::uint32_t kNoBlockStart = 0xFFFFFFFFu;

enum class RecordKind : std::uint8_t { Label = 1, Data = 2, End = 3 };

struct RecordHeader {
  RecordKind kind = RecordKind::Data;
  std::string volser;
  std::uint64_t record_no = 0;
  std::uint32_t stream_id = 0;                // which migration stream wrote it (data records)
  std::uint64_t stream_seq = 0;               // its place among that stream's records on this cartridge
  std::uint32_t used = 0;                     // payload bytes in use; the rest is zero
  std::uint32_t first_block = kNoBlockStart;  // payload offset of the first block that starts here
  std::uint32_t crc = 0;                      // zlib crc32 over the header (crc zeroed) and the used payload
};

// A whole record of kRecordSize bytes: header, then `payload` (at most kRecordPayload bytes),
// then zeros.
std::vector<std::uint8_t> encode_record(const RecordHeader& header, std::span<const std::uint8_t> payload);
// Appends the same to `out`.
void append_record(std::vector<std::uint8_t>& out, const RecordHeader& header,
                   std::span<const std::uint8_t> payload);

// Parses and checks one record of kRecordSize bytes: magic, version, kind, lengths, CRC, and
// that it is record `expected_no` of cartridge `volser`. The reason on failure.
Result<RecordHeader> check_record(std::span<const std::uint8_t> record, std::string_view volser,
                                  std::uint64_t expected_no);

// The label record's payload is an ordinary label block of the volume format.
std::vector<std::uint8_t> encode_label_record(const std::string& volser, std::int64_t created);
Result<VolumeLabel> decode_label_record(std::span<const std::uint8_t> record, std::string_view volser);

// Where a block lies on a cartridge. In the catalog it is a location whose offset is the byte
// position of the block's header (record * kRecordSize + kRecordHeaderSize + payload offset),
// whose length is the block's length, and whose span lists the continuation records.
struct TapeBlockRef {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  std::vector<std::uint64_t> span;

  std::uint64_t first_record() const { return offset / kRecordSize; }
  std::uint32_t payload_offset() const {
    return static_cast<std::uint32_t>(offset % kRecordSize - kRecordHeaderSize);
  }
  std::uint64_t last_record() const { return span.empty() ? first_record() : span.back(); }
  // Every record the block occupies, first to last.
  std::vector<std::uint64_t> records() const;
};
// Checks that a location names a possible block: inside a record's payload, a sane length, and
// exactly as many continuation records, in increasing order, as the length needs.
Status check_block_ref(const TapeBlockRef& ref);

// The catalog keeps a span as little-endian u64s in a BLOB (NULL when empty).
std::vector<std::uint8_t> encode_span(const std::vector<std::uint64_t>& span);
Result<std::vector<std::uint64_t>> decode_span(std::span<const std::uint8_t> blob);

// Gathers a block's bytes out of records a drive read. `record_at(no)` returns the record's bytes
// (kRecordSize, already checked with check_record) or an empty span if it was not read.
using RecordLookup = std::function<std::span<const std::uint8_t>(std::uint64_t record_no)>;
Result<std::vector<std::uint8_t>> gather_block(const TapeBlockRef& ref, const RecordLookup& record_at);

// "cartridge R00042: record 17: <reason>"
std::string record_context(std::string_view volser, std::uint64_t record_no);

}  // namespace recall::tape
