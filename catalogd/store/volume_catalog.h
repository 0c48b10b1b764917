// What the catalog knows of volumes beyond single reads: listings for `recall volumes`, the chunks
// a migration still has to copy, committing tape copies, and evicting a disk volume whose chunks
// all live on tape. Each write is one transaction: the catalog never names bytes that are not
// durably on their volume.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalogd/store/sqlite.h"
#include "common/sha256.h"
#include "common/time.h"

namespace recall::store {

struct VolumeRow {
  std::int64_t id = 0;
  std::string volser, kind, path, state;
  std::uint64_t bytes = 0;  // committed length
  UnixTime created = 0;
  int pool = 0;                   // 0 disk pool; 1, 2 tape copy pools
  std::int64_t chunks = 0;        // locations on it
  std::uint64_t chunk_bytes = 0;  // their plain bytes
};

struct VolumeSetRef {
  std::int64_t set_id = 0;
  std::string host;
  UnixTime at = 0;  // of the point the set made (0 for a set without one)
};

struct ChunkToCopy {
  std::int64_t chunk_id = 0;
  Digest sha{};
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // of its block on the source volume
  std::uint32_t length = 0;
};

// One block a migration wrote to tape: where it is now.
struct TapeCopyRow {
  std::int64_t chunk_id = 0;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  int codec = 0;
  std::vector<std::uint64_t> span;
};

Result<std::vector<VolumeRow>> list_volumes(Db& db);
Result<std::optional<VolumeRow>> volume_by_volser(Db& db, const std::string& volser);
Result<std::vector<VolumeSetRef>> sets_on_volume(Db& db, std::int64_t volume_id);

// Chunks on disk volume `volume_id` that have no location of copy `copy` on tape yet, in the
// order they lie on the volume.
Result<std::vector<ChunkToCopy>> chunks_without_copy(Db& db, std::int64_t volume_id, int copy);

// Records blocks now durable on cartridge `volser` (creating its volume row, of copy pool `copy`,
// on first use) as copy `copy` of their chunks, sets the cartridge's committed length (and its
// state to "full" once sealed), and notes the backup sets of `sources` as having data on it. One
// transaction; Conflict when the cartridge holds another copy pool or is sealed.
Status commit_tape_copies(Db& db, const std::string& volser, const std::string& path, int copy,
                          std::uint64_t committed_bytes, const std::vector<TapeCopyRow>& rows,
                          const std::vector<std::int64_t>& sources, bool full);

// Drops disk volume `volume_id`'s locations and marks it evicted, once every chunk on it has tape
// copies 1..copies; Conflict, changing nothing, when some do not. Returns the chunks dropped. The
// caller removes the file after this committed.
Result<std::int64_t> evict_disk_volume(Db& db, std::int64_t volume_id, int copies);

// Files of evicted disk volumes (left behind if recalld died between the commit and the unlink).
Result<std::vector<std::string>> evicted_volume_paths(Db& db);

}  // namespace recall::store
