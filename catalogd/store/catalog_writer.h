// Writes one new point of one host inside a single transaction: the whole import becomes
// visible at commit, or not at all (a failed or killed import leaves the catalog as before).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalogd/store/catalog_reader.h"
#include "catalogd/store/rows.h"
#include "catalogd/store/sqlite.h"

namespace recall::store {

struct PointSpec {
  std::string host;
  UnixTime at = 0;
  std::string importer;  // dir | tar | ...
  std::string source;    // what was imported, for the history
  std::string kind;      // full | incremental; "" = full for a host's first point, else incremental
};

// An archive imported before: the volume that holds it and the point it made.
struct KnownArchive {
  std::string volser, path, host;
  UnixTime at = 0;
};

class PointWriter {
 public:
  // Starts the transaction, creates the host on first use, refuses a point that is not
  // newer than the host's newest (Conflict) and allocates the new point's sequence number.
  static Result<PointWriter> begin(Db& db, const PointSpec& spec);
  PointWriter(PointWriter&&) = default;

  std::int64_t root_node() const { return root_node_; }
  std::int64_t seq() const { return seq_; }
  bool first_point() const { return seq_ == 1; }
  const std::string& kind() const { return kind_; }
  const PointSpec& spec() const { return spec_; }
  std::int64_t set_id() const { return set_id_; }
  Db& db() { return *db_; }

  Result<std::int64_t> child_node(std::int64_t parent, const std::string& name);
  // Versions still open (valid in the previous point) under a directory node, by name.
  Result<std::unordered_map<std::string, VersionRow>> open_children(std::int64_t parent);
  Result<std::optional<VersionRow>> open_version(std::int64_t node_id);
  // A regular file of the previous point (still open, or closed by this import) with this
  // inode, size, mtime and ctime: the same file under another path.
  Result<std::optional<VersionRow>> moved_version(std::uint64_t ino, std::uint64_t size,
                                                  std::int64_t mtime_ns, std::int64_t ctime_ns);
  // Ends a version's validity at the previous point (the path changed or was deleted).
  Status close_version(std::int64_t version_id);
  // Ends every open version below a directory node (a directory was deleted).
  Status close_subtree(std::int64_t node_id);
  Result<std::int64_t> add_version(std::int64_t node_id, const FileMeta& meta, std::int64_t content_id);

  Result<std::optional<std::int64_t>> find_content(const Digest& sha, bool whole_sha = true);
  // `whole_sha` false: `sha` is chunk_list_digest() of the chunks (the bytes were not read).
  Result<std::int64_t> add_content(const Digest& sha, std::uint64_t size,
                                   const std::vector<std::int64_t>& chunk_ids, bool whole_sha = true);
  // A content whose bytes cannot be read, with the reason; `sha` must be unique to it.
  Result<std::int64_t> add_gap(const Digest& sha, std::uint64_t size, const std::string& reason,
                               const std::optional<Digest>& source_sha);
  Result<std::optional<std::int64_t>> find_chunk(const Digest& sha);
  // find_chunk, and add the chunk (without a location) when it is new (`*fresh`). While most
  // chunks of this import turn out new, the insert is tried first: one statement instead of two.
  Result<std::int64_t> intern_chunk(const Digest& sha, std::uint64_t size, bool* fresh);
  // The same for a content and its chunk list.
  Result<std::int64_t> intern_content(const Digest& sha, std::uint64_t size,
                                      const std::vector<std::int64_t>& chunk_ids, bool whole_sha,
                                      bool* fresh);
  Result<std::int64_t> add_chunk(const Digest& sha, std::uint64_t size, std::int64_t volume_id,
                                 std::uint64_t offset, std::uint32_t length, int codec);
  // One more local copy of a known chunk (the same bytes in another archive): a reader that
  // finds one copy damaged or gone reads the next.
  Status add_location(std::int64_t chunk_id, std::int64_t volume_id, std::uint64_t offset,
                      std::uint32_t length, int codec);
  Result<std::int64_t> add_volume(const std::string& volser, const std::string& kind,
                                  const std::string& path);
  Status set_volume_bytes(std::int64_t volume_id, std::uint64_t bytes);
  // Archives (kind 'archive') are known by the SHA-256 of their bytes: the same archive
  // imported again, under any name, is found here.
  Status set_volume_sha(std::int64_t volume_id, const Digest& sha);
  // An encrypted archive (a restic pack): the key file in recalld's home that opens its chunks.
  Status set_volume_key(std::int64_t volume_id, const std::string& key_ref);
  // Part `idx` of this set's point record (see importers/point_record.h) is chunk `chunk_id`.
  Status add_set_record(int idx, std::int64_t chunk_id);
  // The set's kind when only the end of the import can tell (an archive with dumpdirs).
  Status set_kind(const std::string& kind);

  // Records the summary and commits. The caller must have made volume data durable first.
  Status commit(const std::string& stats_json);

 private:
  PointWriter(Db& db, Transaction txn) : db_(&db), txn_(std::move(txn)) {}
  // How often lookups of one kind found a row: decides whether to look up or insert first.
  struct HitRate {
    std::uint64_t lookups = 0, hits = 0;
    bool insert_first() const { return lookups >= 16 && hits * 4 < lookups; }
    void count(bool hit) {
      if (++lookups > 4096) lookups /= 2, hits /= 2;  // the recent past counts
      hits += hit;
    }
  };
  HitRate chunk_hits_, content_hits_;
  Status add_content_chunks(std::int64_t content_id, const std::vector<std::int64_t>& chunk_ids);
  Result<std::int64_t> name_id(const std::string& name);
  Db* db_;
  Transaction txn_;
  std::int64_t host_id_ = 0, root_node_ = 0, seq_ = 0, set_id_ = 0;
  std::int64_t nodes_before_ = 0;  // node ids above this were made by this transaction
  struct PairHash {
    std::size_t operator()(const std::pair<std::int64_t, std::int64_t>& p) const {
      return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(p.first) * 1'000'003u +
                                        static_cast<std::uint64_t>(p.second));
    }
  };
  static constexpr std::size_t kMaxMadeChildren = 1'000'000;
  std::unordered_map<std::pair<std::int64_t, std::int64_t>, std::int64_t, PairHash> made_children_;
  bool made_children_complete_ = true;
  std::string kind_;
  PointSpec spec_;
  std::unordered_map<std::string, std::int64_t> name_cache_;
};

// Adds the names imports recorded since the last call to the search index (names_fts), in one
// transaction of its own; returns how many. recalld calls it after every import and at start,
// so the index is at most one import behind; search reads the names not in it yet directly.
Result<std::int64_t> index_new_names(Db& db);

// An archive volume holding exactly these bytes (kind 'archive', by SHA-256), if one was imported.
Result<std::optional<KnownArchive>> find_archive(Db& db, const Digest& sha);

// The next free volser with a prefix ("D" for disk pool: D000001, D000002, ...) that the
// catalog does not know and `taken` does not claim.
Result<std::string> next_volser(Db& db, const std::string& prefix,
                                const std::function<bool(const std::string&)>& taken);

}  // namespace recall::store
