// Read-only queries over the catalog. One CatalogReader per connection (per thread); it
// never decides access: callers in catalogd/service do that through auth/.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalogd/store/rows.h"
#include "catalogd/store/sqlite.h"

namespace recall::store {

class CatalogReader {
 public:
  explicit CatalogReader(Db& db) : db_(db) {}

  Result<std::vector<HostRow>> hosts();
  Result<std::optional<HostRow>> host(const std::string& name);
  // A host's name by id ("" if there is none), without counting its points as host() does.
  Result<std::string> host_name(std::int64_t host_id);
  Result<std::vector<PointRow>> points(std::int64_t host_id);
  // The newest point at or before `at` (kLatest: the newest); nullopt if none.
  Result<std::optional<PointRow>> point_at(std::int64_t host_id, UnixTime at);
  Result<std::optional<PointRow>> point_by_seq(std::int64_t host_id, std::int64_t seq);
  Result<std::optional<PointRow>> point_by_id(std::int64_t point_id);

  // The version of `node` valid at point `seq`, if any.
  Result<std::optional<VersionRow>> version_at(std::int64_t node_id, std::int64_t seq);
  // The child called `name` of directory node `parent` as it was at `seq`.
  Result<std::optional<Entry>> child_at(std::int64_t parent, const std::string& name, std::int64_t seq);
  Result<std::vector<Entry>> children_at(std::int64_t parent, std::int64_t seq);
  Result<VersionRow> version_by_id(std::int64_t version_id);
  // Every version a node ever had, oldest first.
  Result<std::vector<VersionRow>> versions_of(std::int64_t node_id);
  Result<std::optional<std::int64_t>> child_node(std::int64_t parent, const std::string& name);
  // Every node ever seen below `parent` with its name, sorted by name.
  Result<std::vector<std::pair<std::string, std::int64_t>>> child_nodes(std::int64_t parent);
  // The lowest node of host `host_id` that at `seq` is a hard link to the same file as `v`
  // (same host inode, type, content and mtime): one inode for all the names of a file.
  Result<std::int64_t> link_group_node(std::int64_t host_id, const VersionRow& v, std::int64_t seq);
  // Parent chain of a node, root first, not including the node itself.
  Result<std::vector<std::int64_t>> ancestors(std::int64_t node_id);
  Result<std::string> node_path(std::int64_t node_id);
  Result<std::string> node_name(std::int64_t node_id);
  // The host a node belongs to.
  Result<std::int64_t> node_host(std::int64_t node_id);

  Result<ContentRow> content(std::int64_t content_id);
  Result<std::vector<ChunkLocation>> chunk_locations(std::int64_t content_id);
  // Every copy of one chunk as the catalog has them now, disk first, then tape by copy number.
  Result<std::vector<StoredCopy>> chunk_copies(const Digest& sha);

  Result<std::vector<BackupSetRow>> backup_sets(int limit);
  struct Totals {
    std::int64_t hosts = 0, points = 0, versions = 0, nodes = 0, names = 0, contents = 0, chunks = 0;
    std::int64_t content_bytes = 0, chunk_bytes = 0, stored_bytes = 0, volumes = 0;
  };
  Result<Totals> totals();

  Db& db() { return db_; }

 private:
  Db& db_;
  // Node → (parent, name) is immutable, so it can be cached for the life of the connection.
  struct NodeInfo {
    std::int64_t parent;
    std::string name;
  };
  Result<NodeInfo> node_info(std::int64_t node_id);
  std::unordered_map<std::int64_t, NodeInfo> node_cache_;
};

// Column list and decoder for versions rows (shared by reader, search and writer).
#define RECALL_VERSION_COLUMNS                                                                   \
  "v.id, v.node_id, v.from_seq, v.to_seq, v.type, v.mode, v.uid, v.gid, v.user, v.grp, v.size, " \
  "v.mtime_ns, v.ctime_ns, v.ino, v.nlink, v.rdev, v.target, v.content_id, v.extra"
inline constexpr int kVersionColumnCount = 19;
VersionRow read_version(const Stmt& s, int first_col = 0);

}  // namespace recall::store
