#include "catalogd/store/catalog_writer.h"

#include <cstdio>

#include "catalogd/store/meta_codec.h"
#include "catalogd/store/schema.h"

namespace recall::store {
namespace {

#define RECALL_W(name, sql) RECALL_CACHED_STMT(name, *db_, sql)

Result<std::int64_t> host_id_for(Db& db, const std::string& host, bool create) {
  auto q = db.cached("SELECT id FROM hosts WHERE name = ?1");
  if (!q.ok()) return q.error();
  (*q)->bind(1, host);
  auto r = (*q)->step();
  if (!r.ok()) return r.error();
  if (*r) return (*q)->i64(0);
  if (!create) return std::int64_t{0};
  auto ins = db.cached("INSERT INTO hosts(name, created) VALUES (?1, strftime('%s','now'))");
  if (!ins.ok()) return ins.error();
  (*ins)->bind(1, host);
  RECALL_TRY((*ins)->run());
  return db.last_insert_id();
}

std::span<const std::uint8_t> bytes(const Digest& d) { return {d.data(), d.size()}; }

}  // namespace

Result<PointWriter> PointWriter::begin(Db& db, const PointSpec& spec) {
  if (spec.host.empty() || spec.host.size() > 255 || spec.host.find('/') != std::string::npos ||
      spec.host.front() == '.' || spec.host.front() == '@' || spec.host.find('\0') != std::string::npos)
    return make_error(ErrorKind::Invalid, "host name '" + spec.host +
                                              "' is not usable: it must be 1-255 bytes, without '/', not "
                                              "starting with '.' or '@'");
  auto txn = Transaction::begin(db);
  if (!txn.ok()) return txn.error();
  PointWriter w(db, std::move(*txn));
  auto hid = host_id_for(db, spec.host, true);
  if (!hid.ok()) return hid.error();
  w.host_id_ = *hid;

  {
    auto q = db.cached("SELECT max(seq), max(at) FROM points WHERE host_id = ?1");
    if (!q.ok()) return q.error();
    (*q)->bind(1, w.host_id_);
    auto r = (*q)->step();
    if (!r.ok()) return r.error();
    if (!(*q)->is_null(0)) {
      UnixTime newest = (*q)->i64(1);
      if (spec.at <= newest)
        return make_error(ErrorKind::Conflict, "host " + spec.host + " already has a point at " +
                                                   format_utc(newest) + "; a new point must be newer than " +
                                                   "that (asked for " + format_utc(spec.at) + ")");
      w.seq_ = (*q)->i64(0) + 1;
    } else {
      w.seq_ = 1;
    }
  }
  w.kind_ = !spec.kind.empty() ? spec.kind : w.seq_ == 1 ? "full" : "incremental";
  w.spec_ = spec;
  {
    auto q = db.cached(
        "INSERT INTO backup_sets(host_id, kind, importer, source, started, status) "
        "VALUES (?1, ?2, ?3, ?4, strftime('%s','now'), 'running')");
    if (!q.ok()) return q.error();
    (*q)->bind(1, w.host_id_).bind(2, w.kind_).bind(3, spec.importer).bind(4, spec.source);
    RECALL_TRY((*q)->run());
    w.set_id_ = db.last_insert_id();
  }
  {
    auto q = db.cached("INSERT INTO points(host_id, seq, at, set_id) VALUES (?1, ?2, ?3, ?4)");
    if (!q.ok()) return q.error();
    (*q)->bind(1, w.host_id_).bind(2, w.seq_).bind(3, spec.at).bind(4, w.set_id_);
    RECALL_TRY((*q)->run());
  }
  {
    auto q = db.cached("SELECT coalesce(max(id), 0) FROM nodes");
    if (!q.ok()) return q.error();
    RECALL_TRY((*q)->step());
    w.nodes_before_ = (*q)->i64(0);
  }
  // The root node ("" under parent 0) exists once per host.
  {
    auto q = db.cached("SELECT root_node FROM hosts WHERE id = ?1");
    if (!q.ok()) return q.error();
    (*q)->bind(1, w.host_id_);
    auto r = (*q)->step();
    if (!r.ok()) return r.error();
    w.root_node_ = (*q)->i64(0);
  }
  if (w.root_node_ == 0) {
    auto nid = w.name_id("");
    if (!nid.ok()) return nid.error();
    // A root's parent is minus its host id: roots stay unique under nodes_by_parent.
    auto q = db.cached("INSERT INTO nodes(host_id, parent_id, name_id) VALUES (?1, ?2, ?3)");
    if (!q.ok()) return q.error();
    (*q)->bind(1, w.host_id_).bind(2, -w.host_id_).bind(3, *nid);
    RECALL_TRY((*q)->run());
    w.root_node_ = db.last_insert_id();
    auto u = db.cached("UPDATE hosts SET root_node = ?1 WHERE id = ?2");
    if (!u.ok()) return u.error();
    (*u)->bind(1, w.root_node_).bind(2, w.host_id_);
    RECALL_TRY((*u)->run());
  }
  return w;
}

Result<std::int64_t> PointWriter::name_id(const std::string& name) {
  if (auto it = name_cache_.find(name); it != name_cache_.end()) return it->second;
  RECALL_W(q, "SELECT id FROM names WHERE name = ?1");
  q->bind(1, name);
  auto r = q->step();
  if (!r.ok()) return r.error();
  std::int64_t id;
  if (*r) {
    id = q->i64(0);
  } else {
    RECALL_W(ins, "INSERT INTO names(name) VALUES (?1)");
    ins->bind(1, name);
    RECALL_TRY(ins->run());
    id = db_->last_insert_id();  // names_fts learns it after the commit (index_new_names)
  }
  if (name_cache_.size() > 500000) name_cache_.clear();
  name_cache_.emplace(name, id);
  return id;
}

Result<std::int64_t> PointWriter::child_node(std::int64_t parent, const std::string& name) {
  auto nid = name_id(name);
  if (!nid.ok()) return nid.error();
  // The children of a node this transaction made are all in made_children_ (while it is
  // complete): no need to ask the catalog.
  const bool made_parent = parent > nodes_before_ && made_children_complete_;
  const std::pair<std::int64_t, std::int64_t> key{parent, *nid};
  if (made_parent) {
    if (auto it = made_children_.find(key); it != made_children_.end()) return it->second;
  } else {
    RECALL_W(q, "SELECT id FROM nodes WHERE parent_id = ?1 AND name_id = ?2");
    q->bind(1, parent).bind(2, *nid);
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (*r) return q->i64(0);
  }
  RECALL_W(ins, "INSERT INTO nodes(host_id, parent_id, name_id) VALUES (?1, ?2, ?3)");
  ins->bind(1, host_id_).bind(2, parent).bind(3, *nid);
  RECALL_TRY(ins->run());
  const std::int64_t id = db_->last_insert_id();
  if (made_children_.size() >= kMaxMadeChildren) {
    made_children_.clear();
    made_children_complete_ = false;
  }
  if (made_children_complete_) made_children_.emplace(key, id);
  return id;
}

Result<std::unordered_map<std::string, VersionRow>> PointWriter::open_children(std::int64_t parent) {
  RECALL_W(q, "SELECT m.name, " RECALL_VERSION_COLUMNS
              " FROM nodes n JOIN names m ON m.id = n.name_id "
              "JOIN versions v ON v.node_id = n.id WHERE n.parent_id = ?1 AND v.to_seq = ?2");
  q->bind(1, parent).bind(2, kOpenSeq);
  std::unordered_map<std::string, VersionRow> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.emplace(q->text(0), read_version(*q, 1));
  }
  return out;
}

Result<std::optional<VersionRow>> PointWriter::open_version(std::int64_t node_id) {
  RECALL_W(q, "SELECT " RECALL_VERSION_COLUMNS " FROM versions v WHERE v.node_id = ?1 AND v.to_seq = ?2");
  q->bind(1, node_id).bind(2, kOpenSeq);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<VersionRow>();
  return std::optional<VersionRow>(read_version(*q));
}

Result<std::optional<VersionRow>> PointWriter::moved_version(std::uint64_t ino, std::uint64_t size,
                                                             std::int64_t mtime_ns, std::int64_t ctime_ns) {
  if (seq_ == 1) return std::optional<VersionRow>();
  RECALL_W(q, "SELECT " RECALL_VERSION_COLUMNS
              " FROM versions v JOIN nodes n ON n.id = v.node_id "
              "WHERE v.ino = ?1 AND n.host_id = ?2 AND v.type = 'f' AND v.size = ?3 AND v.mtime_ns = ?4 "
              "AND v.ctime_ns = ?5 AND v.to_seq IN (?6, ?7) LIMIT 1");
  q->bind(1, static_cast<std::int64_t>(ino)).bind(2, host_id_).bind(3, static_cast<std::int64_t>(size));
  q->bind(4, mtime_ns).bind(5, ctime_ns).bind(6, kOpenSeq).bind(7, seq_ - 1);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<VersionRow>();
  return std::optional<VersionRow>(read_version(*q));
}

Status PointWriter::close_version(std::int64_t version_id) {
  RECALL_W(q, "UPDATE versions SET to_seq = ?1 WHERE id = ?2");
  q->bind(1, seq_ - 1).bind(2, version_id);
  return q->run();
}

Status PointWriter::close_subtree(std::int64_t node_id) {
  RECALL_W(q,
           "WITH RECURSIVE sub(id) AS (SELECT id FROM nodes WHERE parent_id = ?1 "
           "UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id) "
           "UPDATE versions SET to_seq = ?2 WHERE to_seq = ?3 AND node_id IN (SELECT id FROM sub)");
  q->bind(1, node_id).bind(2, seq_ - 1).bind(3, kOpenSeq);
  return q->run();
}

Result<std::int64_t> PointWriter::add_version(std::int64_t node_id, const FileMeta& m,
                                              std::int64_t content_id) {
  RECALL_W(q,
           "INSERT INTO versions(node_id, from_seq, to_seq, type, mode, uid, gid, user, grp, size, mtime_ns, "
           "ctime_ns, ino, nlink, rdev, target, content_id, extra) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)");
  char t = type_code(m.type);
  q->bind(1, node_id).bind(2, seq_).bind(3, kOpenSeq).bind(4, std::string_view(&t, 1));
  q->bind(5, m.mode).bind(6, m.uid).bind(7, m.gid).bind(8, m.user).bind(9, m.group);
  q->bind(10, static_cast<std::int64_t>(m.size)).bind(11, m.mtime_ns).bind(12, m.ctime_ns);
  q->bind(13, static_cast<std::int64_t>(m.ino)).bind(14, m.nlink).bind(15, static_cast<std::int64_t>(m.rdev));
  if (m.type == FileType::Symlink)
    q->bind(16, m.link_target);
  else
    q->bind_null(16);
  if (content_id)
    q->bind(17, content_id);
  else
    q->bind_null(17);
  std::string extra = encode_extra(m);
  if (extra.empty())
    q->bind_null(18);
  else
    q->bind(18, extra);
  RECALL_TRY(q->run());
  return db_->last_insert_id();
}

Result<std::optional<std::int64_t>> PointWriter::find_content(const Digest& sha, bool whole_sha) {
  // A chunk-list digest never stands for a hash of bytes, nor the other way round.
  RECALL_W(q, "SELECT id FROM contents WHERE sha256 = ?1 AND whole_sha = ?2");
  q->bind_blob(1, bytes(sha)).bind(2, whole_sha ? 1 : 0);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->i64(0));
}

Result<std::int64_t> PointWriter::add_content(const Digest& sha, std::uint64_t size,
                                              const std::vector<std::int64_t>& chunk_ids, bool whole_sha) {
  RECALL_W(q, "INSERT INTO contents(sha256, size, whole_sha) VALUES (?1, ?2, ?3)");
  q->bind_blob(1, bytes(sha)).bind(2, static_cast<std::int64_t>(size)).bind(3, whole_sha ? 1 : 0);
  RECALL_TRY(q->run());
  std::int64_t id = db_->last_insert_id();
  RECALL_TRY(add_content_chunks(id, chunk_ids));
  return id;
}

Status PointWriter::add_content_chunks(std::int64_t content_id, const std::vector<std::int64_t>& chunk_ids) {
  RECALL_W(cc, "INSERT INTO content_chunks(content_id, idx, chunk_id) VALUES (?1, ?2, ?3)");
  for (std::size_t i = 0; i < chunk_ids.size(); ++i) {
    cc->bind(1, content_id).bind(2, static_cast<std::int64_t>(i)).bind(3, chunk_ids[i]);
    RECALL_TRY(cc->run());
    cc->reset();
  }
  return {};
}

Result<std::int64_t> PointWriter::intern_content(const Digest& sha, std::uint64_t size,
                                                 const std::vector<std::int64_t>& chunk_ids, bool whole_sha,
                                                 bool* fresh) {
  *fresh = false;
  const bool look_first = !content_hits_.insert_first();
  if (look_first) {
    auto known = find_content(sha, whole_sha);
    if (!known.ok()) return known.error();
    content_hits_.count(known->has_value());
    if (*known) return **known;
  }
  RECALL_W(
      q, "INSERT INTO contents(sha256, size, whole_sha) VALUES (?1, ?2, ?3) ON CONFLICT(sha256) DO NOTHING");
  q->bind_blob(1, bytes(sha)).bind(2, static_cast<std::int64_t>(size)).bind(3, whole_sha ? 1 : 0);
  RECALL_TRY(q->run());
  if (db_->changes() == 1) {
    if (!look_first) content_hits_.count(false);
    *fresh = true;
    const std::int64_t id = db_->last_insert_id();
    RECALL_TRY(add_content_chunks(id, chunk_ids));
    return id;
  }
  auto known = find_content(sha, whole_sha);  // there: the insert found it
  if (!known.ok()) return known.error();
  content_hits_.count(true);
  if (!*known)
    return make_error(ErrorKind::Internal,
                      "content " + to_hex(sha) + " is known with the other kind of digest");
  return **known;
}

Result<std::int64_t> PointWriter::intern_chunk(const Digest& sha, std::uint64_t size, bool* fresh) {
  *fresh = false;
  const bool look_first = !chunk_hits_.insert_first();
  if (look_first) {
    auto known = find_chunk(sha);
    if (!known.ok()) return known.error();
    chunk_hits_.count(known->has_value());
    if (*known) return **known;
  }
  RECALL_W(q, "INSERT INTO chunks(sha256, size) VALUES (?1, ?2) ON CONFLICT(sha256) DO NOTHING");
  q->bind_blob(1, bytes(sha)).bind(2, static_cast<std::int64_t>(size));
  RECALL_TRY(q->run());
  if (db_->changes() == 1) {
    if (!look_first) chunk_hits_.count(false);
    *fresh = true;
    return db_->last_insert_id();
  }
  auto known = find_chunk(sha);  // there: the insert found it
  if (!known.ok()) return known.error();
  chunk_hits_.count(true);
  if (!*known) return make_error(ErrorKind::Internal, "chunk " + to_hex(sha) + " vanished");
  return **known;
}

Result<std::int64_t> PointWriter::add_gap(const Digest& sha, std::uint64_t size, const std::string& reason,
                                          const std::optional<Digest>& source_sha) {
  auto id = add_content(sha, size, {}, false);
  if (!id.ok()) return id.error();
  RECALL_W(q, "INSERT INTO content_gaps(content_id, reason, source_sha256) VALUES (?1, ?2, ?3)");
  q->bind(1, *id).bind(2, reason);
  if (source_sha) q->bind_blob(3, bytes(*source_sha));
  RECALL_TRY(q->run());
  return *id;
}

Result<std::optional<std::int64_t>> PointWriter::find_chunk(const Digest& sha) {
  RECALL_W(q, "SELECT id FROM chunks WHERE sha256 = ?1");
  q->bind_blob(1, bytes(sha));
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->i64(0));
}

Result<std::int64_t> PointWriter::add_chunk(const Digest& sha, std::uint64_t size, std::int64_t volume_id,
                                            std::uint64_t offset, std::uint32_t length, int codec) {
  RECALL_W(q, "INSERT INTO chunks(sha256, size) VALUES (?1, ?2)");
  q->bind_blob(1, bytes(sha)).bind(2, static_cast<std::int64_t>(size));
  RECALL_TRY(q->run());
  std::int64_t id = db_->last_insert_id();
  // Copy 0: the disk pool (migration adds copies 1 and 2 on tape).
  RECALL_W(l,
           "INSERT INTO locations(chunk_id, volume_id, copy, offset, length, codec) VALUES (?1, ?2, 0, ?3, "
           "?4, ?5)");
  l->bind(1, id).bind(2, volume_id).bind(3, static_cast<std::int64_t>(offset)).bind(4, length).bind(5, codec);
  RECALL_TRY(l->run());
  return id;
}

Status PointWriter::add_location(std::int64_t chunk_id, std::int64_t volume_id, std::uint64_t offset,
                                 std::uint32_t length, int codec) {
  RECALL_W(
      l,
      "INSERT OR IGNORE INTO locations(chunk_id, volume_id, copy, offset, length, codec) VALUES (?1, ?2, 0, "
      "?3, ?4, ?5)");
  l->bind(1, chunk_id)
      .bind(2, volume_id)
      .bind(3, static_cast<std::int64_t>(offset))
      .bind(4, length)
      .bind(5, codec);
  return l->run();
}

Result<std::int64_t> PointWriter::add_volume(const std::string& volser, const std::string& kind,
                                             const std::string& path) {
  RECALL_W(q, "INSERT INTO volumes(volser, kind, path, created) VALUES (?1, ?2, ?3, strftime('%s','now'))");
  q->bind(1, volser).bind(2, kind).bind(3, path);
  RECALL_TRY(q->run());
  const std::int64_t id = db_->last_insert_id();
  RECALL_W(vs, "INSERT OR IGNORE INTO volume_sets(volume_id, set_id) VALUES (?1, ?2)");
  vs->bind(1, id).bind(2, set_id_);
  RECALL_TRY(vs->run());
  return id;
}

Status PointWriter::set_volume_bytes(std::int64_t volume_id, std::uint64_t bytes) {
  RECALL_W(q, "UPDATE volumes SET bytes = ?1 WHERE id = ?2");
  q->bind(1, static_cast<std::int64_t>(bytes)).bind(2, volume_id);
  return q->run();
}

Status PointWriter::set_volume_key(std::int64_t volume_id, const std::string& key_ref) {
  RECALL_W(q, "UPDATE volumes SET key_ref = ?1 WHERE id = ?2");
  q->bind(1, key_ref).bind(2, volume_id);
  return q->run();
}

Status PointWriter::set_volume_sha(std::int64_t volume_id, const Digest& sha) {
  RECALL_W(q, "UPDATE volumes SET sha256 = ?1 WHERE id = ?2");
  q->bind_blob(1, bytes(sha)).bind(2, volume_id);
  return q->run();
}

Status PointWriter::set_kind(const std::string& kind) {
  RECALL_W(q, "UPDATE backup_sets SET kind = ?1 WHERE id = ?2");
  q->bind(1, kind).bind(2, set_id_);
  RECALL_TRY(q->run());
  kind_ = kind;
  return {};
}

Result<std::optional<KnownArchive>> find_archive(Db& db, const Digest& sha) {
  auto q = db.cached(
      "SELECT v.volser, v.path, coalesce(h.name, ''), coalesce(p.at, 0) FROM volumes v "
      "LEFT JOIN volume_sets vs ON vs.volume_id = v.id LEFT JOIN points p ON p.set_id = vs.set_id "
      "LEFT JOIN hosts h ON h.id = p.host_id WHERE v.sha256 = ?1 AND v.kind = 'archive' "
      "ORDER BY p.at LIMIT 1");
  if (!q.ok()) return q.error();
  (*q)->bind_blob(1, bytes(sha));
  auto r = (*q)->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<KnownArchive>();
  return std::optional<KnownArchive>(KnownArchive{(*q)->text(0), (*q)->text(1), (*q)->text(2), (*q)->i64(3)});
}

Status PointWriter::add_set_record(int idx, std::int64_t chunk_id) {
  RECALL_W(q, "INSERT INTO set_records(set_id, idx, chunk_id) VALUES (?1, ?2, ?3)");
  q->bind(1, set_id_).bind(2, idx).bind(3, chunk_id);
  return q->run();
}

Status PointWriter::commit(const std::string& stats_json) {
  RECALL_W(
      q,
      "UPDATE backup_sets SET status = 'complete', ended = strftime('%s','now'), stats = ?1 WHERE id = ?2");
  q->bind(1, stats_json).bind(2, set_id_);
  RECALL_TRY(q->run());
  return txn_.commit();
}

Result<std::string> next_volser(Db& db, const std::string& prefix,
                                const std::function<bool(const std::string&)>& taken) {
  auto q = db.cached("SELECT max(volser) FROM volumes WHERE volser LIKE ?1 || '%'");
  if (!q.ok()) return q.error();
  (*q)->bind(1, prefix);
  auto r = (*q)->step();
  if (!r.ok()) return r.error();
  long n = 0;
  if (!(*q)->is_null(0)) n = std::strtol((*q)->text(0).c_str() + prefix.size(), nullptr, 10);
  for (long k = n + 1; k < n + 100000; ++k) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%06ld", prefix.c_str(), k);
    if (!taken(buf)) return std::string(buf);
  }
  return make_error(ErrorKind::Conflict, "no free volume serial with prefix " + prefix);
}

Result<std::int64_t> index_new_names(Db& db) {
  auto txn = Transaction::begin(db);
  if (!txn.ok()) return txn.error();
  auto upto = db.prepare("SELECT names_upto, (SELECT coalesce(max(id), 0) FROM names) FROM search_index");
  if (!upto.ok()) return upto.error();
  auto row = upto->step();
  if (!row.ok()) return row.error();
  if (!*row) return make_error(ErrorKind::Internal, "catalog " + db.path() + " has no search_index row");
  const std::int64_t from = upto->i64(0), to = upto->i64(1);
  upto->reset();
  if (to <= from) return std::int64_t{0};
  auto add =
      db.prepare("INSERT INTO names_fts(rowid, name) SELECT id, name FROM names WHERE id > ?1 AND id <= ?2");
  if (!add.ok()) return add.error();
  add->bind(1, from).bind(2, to);
  RECALL_TRY(add->run());
  auto mark = db.prepare("UPDATE search_index SET names_upto = ?1");
  if (!mark.ok()) return mark.error();
  mark->bind(1, to);
  RECALL_TRY(mark->run());
  RECALL_TRY(txn->commit());
  return to - from;
}

}  // namespace recall::store
