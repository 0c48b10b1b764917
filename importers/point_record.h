// The point record: a point's whole image (every path, its metadata, each file's chunk list)
// written onto Recall's own volumes at every import into the pool, so that `recall scan` can
// rebuild the catalog from the volumes alone. Pure encoding here: bytes in, records out, every
// error saying why. The layout is in docs/volume-format.md#point-records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "common/time.h"
#include "importers/tree_image.h"

namespace recall::import {

struct RecordChunk {
  Digest sha{};
  std::uint32_t size = 0;
};

struct RecordContent {
  Digest sha{};
  std::uint64_t size = 0;
  bool whole_sha = true;
  std::vector<std::uint32_t> chunks;  // indices into PointRecord::chunks, in file order
  std::optional<std::string> gap;     // why the bytes cannot be read (then no chunks)
  std::optional<Digest> gap_source_sha;
};

struct PointRecord {
  std::string host;
  UnixTime at = 0;
  std::string importer, kind, source, stats;  // as the backup set recorded them
  std::vector<RecordChunk> chunks;
  std::vector<RecordContent> contents;
  // The tree; a regular file's content_id is 1 + its index in `contents` (0: none).
  TreeImage image;
};

// The record's bytes, before framing into parts.
std::vector<std::uint8_t> encode_point_record(const PointRecord& r);
// Invalid with the reason for anything that is not a well-formed record: names that are not
// plain components, nesting past 512 levels, indices out of range, counts that lie.
Result<PointRecord> decode_point_record(std::span<const std::uint8_t> bytes);

// Parts: the record compressed with zstd and cut into pieces of at most kRecordPartBytes, each
// stored as an ordinary chunk (so migration copies them to tape with the data).
inline constexpr std::size_t kRecordPartHeader = 64;
inline constexpr std::size_t kRecordPartBytes = 256 * 1024;
inline constexpr std::uint64_t kMaxRecordBytes = 1ull << 32;  // compressed and decoded, each

std::vector<std::vector<std::uint8_t>> frame_record_parts(std::span<const std::uint8_t> encoded);

struct RecordPart {
  Digest record_id{};  // SHA-256 of the compressed record
  std::uint32_t index = 0, count = 0;
  std::uint64_t total = 0;  // compressed record bytes
  std::span<const std::uint8_t> data;
};
// True when the bytes start like a part (cheap: the magic only).
bool looks_like_record_part(std::span<const std::uint8_t> plain);
Result<RecordPart> parse_record_part(std::span<const std::uint8_t> plain);

// Collects parts (in any order, duplicates allowed) into whole records.
class RecordAssembler {
 public:
  Status add(const RecordPart& part);
  struct Assembled {
    Digest id{};
    std::vector<std::uint8_t> encoded;  // decompressed, checked against the id
  };
  // Every record whose parts all arrived; `incomplete` counts those that lack some.
  Result<std::vector<Assembled>> finish(std::size_t* incomplete);

 private:
  struct Pending {
    std::uint32_t count = 0;
    std::uint64_t total = 0;
    std::map<std::uint32_t, std::vector<std::uint8_t>> parts;
  };
  std::map<Digest, Pending> pending_;
};

}  // namespace recall::import
