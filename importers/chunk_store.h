// Stores file contents for one import: deduplicates chunks and whole contents against the
// catalog (all hosts, all points) and appends new chunks to this import's disk-pool volume.
// Used from the importing thread only; workers prepare chunks with PreparedChunk.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalogd/store/catalog_writer.h"
#include "importers/import_progress.h"
#include "tapebridge/volume_writer.h"

namespace recall::import {

// A chunk as a worker hands it over: its hash, plain size, and the compressed payload when
// the worker believed it new (empty when it was already known, so nothing is stored).
struct PreparedChunk {
  Digest sha{};
  std::uint32_t size = 0;
  std::optional<tape::CompressedChunk> payload;
};

struct DigestHash {
  std::size_t operator()(const Digest& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

class ChunkStore {
 public:
  ChunkStore(store::PointWriter& writer, std::string pool_dir, ImportProgress& progress, int zstd_level);
  ~ChunkStore();

  // Catalog id of the chunk, storing it if new. A chunk the worker skipped compressing
  // because it looked known, but that is not (a race between workers), is compressed here.
  // `counted` false: not in the import's progress (a point record, which is not file data).
  Result<std::int64_t> put(const PreparedChunk& c, std::span<const std::uint8_t> plain_if_needed,
                           bool counted = true);
  Result<std::optional<std::int64_t>> known_content(const Digest& sha) { return w_.find_content(sha); }
  Result<std::int64_t> add_content(const Digest& sha, std::uint64_t size, const std::vector<std::int64_t>& chunk_ids) {
    return w_.add_content(sha, size, chunk_ids);
  }
  // Makes written volume bytes durable and records their length; call before commit.
  Status finish();
  // Removes volumes this import created (after a rollback nothing references them).
  void discard();

 private:
  Result<tape::VolumeWriter*> volume();
  store::PointWriter& w_;
  std::string pool_dir_;
  ImportProgress& progress_;
  int zstd_level_;
  std::unique_ptr<tape::VolumeWriter> vol_;
  std::int64_t vol_id_ = 0;
  std::vector<std::string> created_;
  std::unordered_map<Digest, std::int64_t, DigestHash> ids_;  // cache of this import's look-ups
};

// Volumes roll over at this size so that one volume is a sensible unit to copy or migrate.
inline constexpr std::uint64_t kVolumeRollover = 4ull << 30;

}  // namespace recall::import
