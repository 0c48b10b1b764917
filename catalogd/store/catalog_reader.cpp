#include "catalogd/store/catalog_reader.h"

#include "catalogd/store/meta_codec.h"
#include "catalogd/store/schema.h"
#include "common/u64_blob.h"

namespace recall::store {

VersionRow read_version(const Stmt& s, int c) {
  VersionRow v;
  v.id = s.i64(c + 0);
  v.node_id = s.i64(c + 1);
  v.from_seq = s.i64(c + 2);
  v.to_seq = s.i64(c + 3);
  std::string type = s.text(c + 4);
  v.meta.type = type_from_code(type.empty() ? 'f' : type[0]);
  v.meta.mode = static_cast<std::uint32_t>(s.i64(c + 5));
  v.meta.uid = static_cast<std::uint32_t>(s.i64(c + 6));
  v.meta.gid = static_cast<std::uint32_t>(s.i64(c + 7));
  v.meta.user = s.text(c + 8);
  v.meta.group = s.text(c + 9);
  v.meta.size = static_cast<std::uint64_t>(s.i64(c + 10));
  v.meta.mtime_ns = s.i64(c + 11);
  v.meta.ctime_ns = s.i64(c + 12);
  v.meta.ino = static_cast<std::uint64_t>(s.i64(c + 13));
  v.meta.nlink = static_cast<std::uint32_t>(s.i64(c + 14));
  v.meta.rdev = static_cast<std::uint64_t>(s.i64(c + 15));
  v.meta.link_target = s.text(c + 16);
  v.content_id = s.i64(c + 17);
  if (!s.is_null(c + 18)) decode_extra(s.text(c + 18), v.meta);
  return v;
}

namespace {

PointRow read_point(const Stmt& s) {
  return PointRow{s.i64(0), s.i64(1), s.i64(2), s.i64(3), s.i64(4), s.text(5), s.text(6)};
}

constexpr const char* kPointCols =
    "SELECT p.id, p.host_id, p.seq, p.at, p.set_id, b.kind, b.importer FROM points p "
    "JOIN backup_sets b ON b.id = p.set_id ";

#define RECALL_Q(name, sql) RECALL_CACHED_STMT(name, db_, sql)

}  // namespace

Result<std::vector<HostRow>> CatalogReader::hosts() {
  RECALL_Q(q,
           "SELECT h.id, h.name, h.root_node, count(p.id), min(p.at), max(p.at) FROM hosts h "
           "JOIN points p ON p.host_id = h.id GROUP BY h.id ORDER BY h.name");
  std::vector<HostRow> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back({q->i64(0), q->text(1), q->i64(2), q->i64(3), q->i64(4), q->i64(5)});
  }
  return out;
}

Result<std::optional<HostRow>> CatalogReader::host(const std::string& name) {
  RECALL_Q(q,
           "SELECT h.id, h.name, h.root_node, count(p.id), min(p.at), max(p.at) FROM hosts h "
           "JOIN points p ON p.host_id = h.id WHERE h.name = ?1 GROUP BY h.id");
  q->bind(1, name);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<HostRow>();
  return std::optional<HostRow>(HostRow{q->i64(0), q->text(1), q->i64(2), q->i64(3), q->i64(4), q->i64(5)});
}

Result<std::string> CatalogReader::host_name(std::int64_t host_id) {
  RECALL_Q(q, "SELECT name FROM hosts WHERE id = ?1");
  q->bind(1, host_id);
  auto r = q->step();
  if (!r.ok()) return r.error();
  return *r ? q->text(0) : std::string();
}

Result<std::vector<PointRow>> CatalogReader::points(std::int64_t host_id) {
  static const std::string sql = std::string(kPointCols) + "WHERE p.host_id = ?1 ORDER BY p.seq";
  RECALL_Q(q, sql.c_str());
  q->bind(1, host_id);
  std::vector<PointRow> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back(read_point(*q));
  }
  return out;
}

Result<std::optional<PointRow>> CatalogReader::point_at(std::int64_t host_id, UnixTime at) {
  static const std::string sql =
      std::string(kPointCols) + "WHERE p.host_id = ?1 AND p.at <= ?2 ORDER BY p.at DESC LIMIT 1";
  RECALL_Q(q, sql.c_str());
  q->bind(1, host_id).bind(2, at);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<PointRow>();
  return std::optional<PointRow>(read_point(*q));
}

Result<std::optional<PointRow>> CatalogReader::point_by_seq(std::int64_t host_id, std::int64_t seq) {
  static const std::string sql = std::string(kPointCols) + "WHERE p.host_id = ?1 AND p.seq = ?2";
  RECALL_Q(q, sql.c_str());
  q->bind(1, host_id).bind(2, seq);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<PointRow>();
  return std::optional<PointRow>(read_point(*q));
}

Result<std::optional<PointRow>> CatalogReader::point_by_id(std::int64_t point_id) {
  static const std::string sql = std::string(kPointCols) + "WHERE p.id = ?1";
  RECALL_Q(q, sql.c_str());
  q->bind(1, point_id);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<PointRow>();
  return std::optional<PointRow>(read_point(*q));
}

Result<std::vector<std::pair<std::string, std::int64_t>>> CatalogReader::child_nodes(std::int64_t parent) {
  RECALL_Q(q,
           "SELECT m.name, n.id FROM nodes n JOIN names m ON m.id = n.name_id WHERE n.parent_id = ?1 "
           "ORDER BY m.name");
  q->bind(1, parent);
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.emplace_back(q->text(0), q->i64(1));
  }
  return out;
}

Result<std::int64_t> CatalogReader::link_group_node(std::int64_t host_id, const VersionRow& v,
                                                    std::int64_t seq) {
  RECALL_Q(q,
           "SELECT min(v.node_id) FROM versions v JOIN nodes n ON n.id = v.node_id WHERE v.ino = ?1 "
           "AND n.host_id = ?2 AND v.from_seq <= ?3 AND v.to_seq >= ?3 AND v.type = ?4 "
           "AND v.content_id IS ?5 AND v.mtime_ns = ?6");
  q->bind(1, static_cast<std::int64_t>(v.meta.ino)).bind(2, host_id).bind(3, seq);
  q->bind(4, std::string(1, type_code(v.meta.type)));
  if (v.content_id)
    q->bind(5, v.content_id);
  else
    q->bind_null(5);
  q->bind(6, v.meta.mtime_ns);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r || q->is_null(0)) return v.node_id;
  return q->i64(0);
}

Result<std::optional<VersionRow>> CatalogReader::version_at(std::int64_t node_id, std::int64_t seq) {
  RECALL_Q(q, "SELECT " RECALL_VERSION_COLUMNS
              " FROM versions v WHERE v.node_id = ?1 AND v.from_seq <= ?2 "
              "AND v.to_seq >= ?2 ORDER BY v.from_seq DESC LIMIT 1");
  q->bind(1, node_id).bind(2, seq);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<VersionRow>();
  return std::optional<VersionRow>(read_version(*q));
}

Result<std::optional<std::int64_t>> CatalogReader::child_node(std::int64_t parent, const std::string& name) {
  RECALL_Q(
      q, "SELECT n.id FROM nodes n JOIN names m ON m.id = n.name_id WHERE n.parent_id = ?1 AND m.name = ?2");
  q->bind(1, parent).bind(2, name);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->i64(0));
}

Result<std::optional<Entry>> CatalogReader::child_at(std::int64_t parent, const std::string& name,
                                                     std::int64_t seq) {
  auto node = child_node(parent, name);
  if (!node.ok()) return node.error();
  if (!*node) return std::optional<Entry>();
  auto v = version_at(**node, seq);
  if (!v.ok()) return v.error();
  if (!*v) return std::optional<Entry>();
  return std::optional<Entry>(Entry{name, std::move(**v)});
}

Result<std::vector<Entry>> CatalogReader::children_at(std::int64_t parent, std::int64_t seq) {
  RECALL_Q(q, "SELECT m.name, " RECALL_VERSION_COLUMNS
              " FROM nodes n JOIN names m ON m.id = n.name_id "
              "JOIN versions v ON v.node_id = n.id WHERE n.parent_id = ?1 AND v.from_seq <= ?2 "
              "AND v.to_seq >= ?2 ORDER BY m.name");
  q->bind(1, parent).bind(2, seq);
  std::vector<Entry> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back(Entry{q->text(0), read_version(*q, 1)});
  }
  return out;
}

Result<VersionRow> CatalogReader::version_by_id(std::int64_t version_id) {
  RECALL_Q(q, "SELECT " RECALL_VERSION_COLUMNS " FROM versions v WHERE v.id = ?1");
  q->bind(1, version_id);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return make_error(ErrorKind::NotFound, "no version " + std::to_string(version_id));
  return read_version(*q);
}

Result<std::vector<VersionRow>> CatalogReader::versions_of(std::int64_t node_id) {
  RECALL_Q(q, "SELECT " RECALL_VERSION_COLUMNS " FROM versions v WHERE v.node_id = ?1 ORDER BY v.from_seq");
  q->bind(1, node_id);
  std::vector<VersionRow> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back(read_version(*q));
  }
  return out;
}

Result<CatalogReader::NodeInfo> CatalogReader::node_info(std::int64_t node_id) {
  if (auto it = node_cache_.find(node_id); it != node_cache_.end()) return it->second;
  RECALL_Q(q, "SELECT n.parent_id, m.name FROM nodes n JOIN names m ON m.id = n.name_id WHERE n.id = ?1");
  q->bind(1, node_id);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return make_error(ErrorKind::NotFound, "no catalog node " + std::to_string(node_id));
  NodeInfo info{q->i64(0), q->text(1)};
  if (node_cache_.size() > 200000) node_cache_.clear();  // bound memory on huge searches
  node_cache_.emplace(node_id, info);
  return info;
}

Result<std::vector<std::int64_t>> CatalogReader::ancestors(std::int64_t node_id) {
  std::vector<std::int64_t> chain;
  std::int64_t cur = node_id;
  for (int depth = 0; depth < 4096; ++depth) {
    auto info = node_info(cur);
    if (!info.ok()) return info.error();
    if (info->parent <= 0) break;  // a host's root
    chain.push_back(info->parent);
    cur = info->parent;
  }
  return std::vector<std::int64_t>(chain.rbegin(), chain.rend());
}

Result<std::string> CatalogReader::node_name(std::int64_t node_id) {
  auto info = node_info(node_id);
  if (!info.ok()) return info.error();
  return info->name;
}

Result<std::string> CatalogReader::node_path(std::int64_t node_id) {
  auto chain = ancestors(node_id);
  if (!chain.ok()) return chain.error();
  std::string path;
  for (std::size_t i = 1; i < chain->size(); ++i) {  // skip the root, whose name is ""
    auto n = node_name((*chain)[i]);
    if (!n.ok()) return n.error();
    path += '/' + *n;
  }
  if (chain->empty()) return std::string("/");
  auto n = node_name(node_id);
  if (!n.ok()) return n.error();
  return path + '/' + *n;
}

Result<std::int64_t> CatalogReader::node_host(std::int64_t node_id) {
  RECALL_Q(q, "SELECT host_id FROM nodes WHERE id = ?1");
  q->bind(1, node_id);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return make_error(ErrorKind::NotFound, "no catalog node " + std::to_string(node_id));
  return q->i64(0);
}

Digest chunk_list_digest(const std::vector<Digest>& chunks) {
  Sha256 h;
  h.update(std::string_view("recall chunk list v1", 21));  // the tag, with its NUL
  for (const auto& c : chunks) h.update({c.data(), c.size()});
  return h.finish();
}

Result<ContentRow> CatalogReader::content(std::int64_t content_id) {
  RECALL_Q(q,
           "SELECT c.id, c.sha256, c.size, c.whole_sha, g.reason FROM contents c "
           "LEFT JOIN content_gaps g ON g.content_id = c.id WHERE c.id = ?1");
  q->bind(1, content_id);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return make_error(ErrorKind::NotFound, "no content " + std::to_string(content_id));
  ContentRow c{q->i64(0), {}, static_cast<std::uint64_t>(q->i64(2))};
  auto b = q->blob(1);
  if (b.size() == c.sha.size()) std::copy(b.begin(), b.end(), c.sha.begin());
  c.whole_sha = q->i64(3) != 0;
  if (!q->is_null(4)) c.unavailable = q->text(4);
  return c;
}

namespace {

// Columns vol.volser, vol.path, vol.kind, vol.state, l.copy, l.offset, l.length, l.span, l.codec,
// vol.key_ref from `first`.
Result<StoredCopy> read_copy(const Stmt& q, int first) {
  StoredCopy c;
  c.volser = q.text(first);
  c.volume_path = q.text(first + 1);
  c.volume_kind = q.text(first + 2);
  c.volume_state = q.text(first + 3);
  c.copy = static_cast<int>(q.i64(first + 4));
  c.offset = static_cast<std::uint64_t>(q.i64(first + 5));
  c.length = static_cast<std::uint32_t>(q.i64(first + 6));
  if (!q.is_null(first + 7)) {
    auto span = decode_u64_blob(q.blob(first + 7));
    if (!span.ok()) return span.error();
    c.span = std::move(*span);
  }
  c.codec = static_cast<int>(q.i64(first + 8));
  if (!q.is_null(first + 9)) c.key_ref = q.text(first + 9);
  return c;
}

}  // namespace

Result<std::vector<StoredCopy>> CatalogReader::chunk_copies(const Digest& sha) {
  RECALL_Q(
      q,
      "SELECT vol.volser, vol.path, vol.kind, vol.state, l.copy, l.offset, l.length, l.span, l.codec, "
      "vol.key_ref FROM chunks c "
      "JOIN locations l ON l.chunk_id = c.id JOIN volumes vol ON vol.id = l.volume_id "
      "WHERE c.sha256 = ?1 ORDER BY vol.kind <> 'tape' DESC, l.copy, vol.volser");
  q->bind_blob(1, {sha.data(), sha.size()});
  std::vector<StoredCopy> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    auto c = read_copy(*q, 0);
    if (!c.ok()) return c.error();
    out.push_back(std::move(*c));
  }
  return out;
}

Result<std::vector<ChunkLocation>> CatalogReader::chunk_locations(std::int64_t content_id) {
  // Every copy of each chunk, disk first, then tape by copy number: readers try them in order.
  RECALL_Q(q,
           "SELECT cc.idx, c.sha256, c.size, vol.volser, vol.path, vol.kind, vol.state, l.copy, l.offset, "
           "l.length, l.span, l.codec, vol.key_ref FROM content_chunks cc JOIN chunks c ON c.id = cc.chunk_id "
           "JOIN locations l ON l.chunk_id = c.id JOIN volumes vol ON vol.id = l.volume_id "
           "WHERE cc.content_id = ?1 ORDER BY cc.idx, vol.kind <> 'tape' DESC, l.copy, vol.volser");
  q->bind(1, content_id);
  std::vector<ChunkLocation> out;
  std::int64_t last_idx = -1;
  std::uint64_t off = 0;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    if (q->i64(0) != last_idx) {
      last_idx = q->i64(0);
      ChunkLocation l;
      auto b = q->blob(1);
      if (b.size() == l.sha.size()) std::copy(b.begin(), b.end(), l.sha.begin());
      l.size = static_cast<std::uint64_t>(q->i64(2));
      l.content_offset = off;
      off += l.size;
      out.push_back(std::move(l));
    }
    auto c = read_copy(*q, 3);
    if (!c.ok()) return c.error();
    out.back().copies.push_back(std::move(*c));
  }
  return out;
}

Result<std::vector<BackupSetRow>> CatalogReader::backup_sets(int limit) {
  RECALL_Q(q,
           "SELECT b.id, h.name, b.kind, b.importer, b.source, b.status, b.started, coalesce(b.ended, 0), "
           "p.at, coalesce(b.stats, '{}') FROM backup_sets b JOIN hosts h ON h.id = b.host_id "
           "LEFT JOIN points p ON p.set_id = b.id ORDER BY b.id DESC LIMIT ?1");
  q->bind(1, limit);
  std::vector<BackupSetRow> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    BackupSetRow b{q->i64(0),  q->text(1), q->text(2), q->text(3), q->text(4),
                   q->text(5), q->i64(6),  q->i64(7),  {},         q->text(9)};
    if (!q->is_null(8)) b.point_at = q->i64(8);
    out.push_back(std::move(b));
  }
  return out;
}

Result<CatalogReader::Totals> CatalogReader::totals() {
  RECALL_Q(q,
           "SELECT (SELECT count(DISTINCT host_id) FROM points), (SELECT count(*) FROM points), "
           "(SELECT count(*) FROM versions), (SELECT count(*) FROM nodes), (SELECT count(*) FROM names), "
           "(SELECT count(*) FROM contents), (SELECT count(*) FROM chunks), "
           "(SELECT coalesce(sum(size), 0) FROM contents), (SELECT coalesce(sum(size), 0) FROM chunks), "
           "(SELECT coalesce(sum(length), 0) FROM locations), (SELECT count(*) FROM volumes)");
  auto r = q->step();
  if (!r.ok()) return r.error();
  return Totals{q->i64(0), q->i64(1), q->i64(2), q->i64(3), q->i64(4), q->i64(5),
                q->i64(6), q->i64(7), q->i64(8), q->i64(9), q->i64(10)};
}

}  // namespace recall::store
