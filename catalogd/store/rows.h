// Plain rows returned by the catalog store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/file_meta.h"
#include "common/sha256.h"
#include "common/time.h"

namespace recall::store {

struct HostRow {
  std::int64_t id = 0;
  std::string name;
  std::int64_t root_node = 0;
  std::int64_t points = 0;
  UnixTime first_at = 0;
  UnixTime last_at = 0;
};

struct PointRow {
  std::int64_t id = 0;
  std::int64_t host_id = 0;
  std::int64_t seq = 0;
  UnixTime at = 0;
  std::int64_t set_id = 0;
  std::string kind;      // of its backup set: full | incremental
  std::string importer;  // dir | tar | ...
};

struct VersionRow {
  std::int64_t id = 0;
  std::int64_t node_id = 0;
  std::int64_t from_seq = 0;
  std::int64_t to_seq = 0;
  FileMeta meta;
  std::int64_t content_id = 0;  // 0 unless a regular file
};

struct Entry {  // a child in a directory at one point
  std::string name;
  VersionRow version;
};

// One stored copy of a chunk: copy 0 in the disk pool, 1 and 2 on tape cartridges.
struct StoredCopy {
  std::string volser;
  std::string volume_path;
  std::string volume_kind;  // disk | tape | archive (another tool's file, read in place)
  std::string volume_state;
  int copy = 0;
  std::uint64_t offset = 0;         // of the block's header on the volume
  std::uint32_t length = 0;         // header + payload bytes
  std::vector<std::uint64_t> span;  // tape: the further records a block continues in
  int codec = 0;                    // archives: how the bytes at offset are stored (kCodec*)
  std::string key_ref;              // archives: the key that decrypts them ("" = plain)

  // On a local file (disk pool or archive), readable without the tape bridge.
  bool on_disk() const { return volume_kind == "disk" || volume_kind == "archive"; }
  bool in_archive() const { return volume_kind == "archive"; }
};

struct ChunkLocation {
  Digest sha{};
  std::uint64_t size = 0;            // plain bytes
  std::uint64_t content_offset = 0;  // where this chunk starts within the file
  std::vector<StoredCopy> copies;    // disk copies first, then tape copies by copy number
};

struct ContentRow {
  std::int64_t id = 0;
  Digest sha{};
  std::uint64_t size = 0;
  // False when `sha` digests the chunk list, not the bytes (contents imported without reading
  // them): readers check each chunk, and show no file hash.
  bool whole_sha = true;
  std::string unavailable;  // why the bytes cannot be read ("" = they can)
};

// How a chunk's bytes are stored at its location in an archive volume.
inline constexpr int kCodecArchivePlain = 0;  // the plain bytes (a tar member)
inline constexpr int kCodecResticBlob = 1;    // a restic blob envelope: AES-256-CTR + Poly1305
inline constexpr int kCodecResticZstd = 2;    // the same, holding a zstd frame (repository v2)

// The content digest of a file known by its chunk list only: SHA-256 of a tag and the chunks'
// hashes in order. Never equal to a hash of file bytes, so such contents never merge with those.
Digest chunk_list_digest(const std::vector<Digest>& chunks);

struct BackupSetRow {
  std::int64_t id = 0;
  std::string host;
  std::string kind, importer, source, status;
  UnixTime started = 0, ended = 0;
  std::optional<UnixTime> point_at;
  std::string stats;  // JSON
};

}  // namespace recall::store
