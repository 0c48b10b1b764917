// What one caller may see of the catalog. Every query a front end makes goes through here,
// and every access decision here is delegated to auth/ (may_access_path / permits).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/access.h"
#include "auth/identity.h"
#include "auth/owner_map.h"
#include "catalogd/store/catalog_reader.h"

namespace recall::service {

struct Resolved {
  store::HostRow host;
  store::PointRow point;
  std::string path;
  std::int64_t node_id = 0;
  store::VersionRow version;
};

struct ListedEntry {
  std::string name;
  store::VersionRow version;
  bool meta_visible = true;  // false when the caller may read the directory but not search it
};

struct VersionInfo {
  store::VersionRow version;
  UnixTime first_at = 0;    // the point where this version appeared
  UnixTime last_at = 0;     // the newest point where it is still valid
  std::int64_t points = 0;  // how many points hold it
  std::string sha256;       // hex, regular files only (and only when known: see ContentRow)
  std::string unavailable;  // why its bytes cannot be read ("" = they can)
  bool current = false;     // still valid in the host's newest point
};

// How hits are ordered. Rank: exact name first, then name prefix, then substring, newest first
// within each. The others order by one column (ties keep the rank order).
enum class SearchSort { Rank, Name, Folder, Host, At, Size, Modified };
std::optional<SearchSort> search_sort_from_name(std::string_view name);

struct SearchQuery {
  std::string text;
  std::string host;  // "" = all hosts
  std::optional<FileType> type;
  // Only versions held by a point in [after, before]; the hit names the newest such point.
  std::optional<UnixTime> after, before;
  std::optional<std::uint64_t> min_size, max_size;  // bytes, inclusive
  SearchSort sort = SearchSort::Rank;
  bool descending = false;
  std::size_t limit = 50;
  std::size_t offset = 0;
};

struct SearchHit {
  std::string host;
  std::string path;
  std::string name;
  store::VersionRow version;
  UnixTime at = 0;        // a point where the caller may restore it (the newest such point)
  UnixTime first_at = 0;  // where this version first appeared
  int match = 0;          // 0 exact name, 1 name prefix, 2 substring / pattern
};

struct SearchResult {
  std::vector<SearchHit> hits;
  std::size_t total = 0;  // hits the caller may see (exact unless total_is_estimate)
  bool total_is_estimate = false;
  std::string mode;  // "substring", "short", "glob" or "path": how the query was run
};

class CatalogView {
 public:
  CatalogView(store::CatalogReader& reader, const Identity& who, OwnerMap& owners)
      : r_(reader), who_(who), owners_(owners) {}

  // The hosts the caller may see something of: root of some point enterable by them.
  Result<std::vector<store::HostRow>> hosts();
  Result<store::HostRow> host(const std::string& name);
  Result<std::vector<store::PointRow>> points(const std::string& host);
  Result<store::PointRow> point(const store::HostRow& host, UnixTime at);

  // Walks `path` in the point chosen by (host, at): search (x) on every directory on the
  // way, then `want` on the target (0 = only reach it). Denied as soon as a directory
  // cannot be searched, whether or not the name exists, exactly as on the host.
  Result<Resolved> resolve(const std::string& host, UnixTime at, const std::string& path, int want);
  // Needs read on the directory; children's metadata only when it may also be searched.
  Result<std::vector<ListedEntry>> list(const Resolved& dir);
  // Every distinct version of a path the caller may read, oldest first.
  Result<std::vector<VersionInfo>> versions(const std::string& host, const std::string& path);
  // The same for one node of host `h`; empty (not Denied) when the caller may read none.
  Result<std::vector<VersionInfo>> versions_of_node(const store::HostRow& h, std::int64_t node_id);
  Result<SearchResult> search(const SearchQuery& q);

  // What of `meta` the caller may see by looking, as on the host (stat, listxattr,
  // getxattr): user.* xattrs only with read permission, trusted.* only for root.
  FileMeta visible_meta(const FileMeta& meta);
  // May the caller read the content (and so learn its hash and where it lives)?
  bool may_read(const FileMeta& meta) { return permits(who_, meta, kRead, owners_); }
  // Could the caller read this version at some point where it is valid: reach it (x on every
  // ancestor) and read it, at its first point or else at its last (the host's newest if still
  // valid)? Ancestors' modes may differ between points; the file's own are the version's.
  Result<bool> may_read_version(const store::VersionRow& version);

  Result<std::vector<store::ChunkLocation>> chunks_of(const store::VersionRow& file);
  Result<store::ContentRow> content_of(const store::VersionRow& file);

  // Could the caller reach `node` (meta: its version) at point `seq` (search on every
  // ancestor) and do `want` (kRead, kExec...) on it?
  Result<bool> may_at(std::int64_t node_id, const FileMeta& meta, std::int64_t seq, int want) {
    return may(node_id, meta, seq, want);
  }
  // Names below `dir` (a node of host `host_id`) at any point that the caller could have seen
  // in a listing of `dir` (read on it at a point where the name existed), sorted, with nodes.
  Result<std::vector<std::pair<std::string, std::int64_t>>> history_children(std::int64_t host_id,
                                                                             std::int64_t dir);

  const Identity& who() const { return who_; }

 private:
  // May the caller read `node` at point `seq` of its host (x on ancestors, want on node)?
  Result<bool> may(std::int64_t node_id, const FileMeta& meta, std::int64_t seq, int want);
  Result<bool> may_search_dir(std::int64_t node_id, std::int64_t seq);
  // Search (x) on every ancestor of `node` at point `seq`: could the caller look it up?
  Result<bool> may_reach(std::int64_t node_id, std::int64_t seq);
  Result<const std::vector<store::PointRow>*> host_points(std::int64_t host_id);
  // The time of point `seq` in a host's points (numbered 1..n in order, so seq indexes them).
  static UnixTime at_of(const std::vector<store::PointRow>& pts, std::int64_t seq);

  store::CatalogReader& r_;
  const Identity& who_;
  OwnerMap& owners_;
  std::map<std::pair<std::int64_t, std::int64_t>, bool> dir_search_cache_;  // (node, seq) -> x
  std::map<std::int64_t, std::vector<store::PointRow>> points_cache_;
  std::map<std::int64_t, std::string> host_names_;
};

}  // namespace recall::service
