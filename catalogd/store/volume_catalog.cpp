#include "catalogd/store/volume_catalog.h"

#include "common/u64_blob.h"

namespace recall::store {
namespace {

constexpr const char* kVolumeColumns =
    "v.id, v.volser, v.kind, v.path, v.state, v.bytes, v.created, v.pool, "
    "(SELECT count(*) FROM locations l WHERE l.volume_id = v.id), "
    "(SELECT coalesce(sum(c.size), 0) FROM locations l JOIN chunks c ON c.id = l.chunk_id WHERE l.volume_id "
    "= v.id)";

VolumeRow read_volume(const Stmt& q) {
  VolumeRow v;
  v.id = q.i64(0);
  v.volser = q.text(1);
  v.kind = q.text(2);
  v.path = q.text(3);
  v.state = q.text(4);
  v.bytes = static_cast<std::uint64_t>(q.i64(5));
  v.created = q.i64(6);
  v.pool = static_cast<int>(q.i64(7));
  v.chunks = q.i64(8);
  v.chunk_bytes = static_cast<std::uint64_t>(q.i64(9));
  return v;
}

}  // namespace

Result<std::vector<VolumeRow>> list_volumes(Db& db) {
  auto q = db.prepare(std::string("SELECT ") + kVolumeColumns + " FROM volumes v ORDER BY v.kind, v.volser");
  if (!q.ok()) return q.error();
  std::vector<VolumeRow> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back(read_volume(*q));
  }
  return out;
}

Result<std::optional<VolumeRow>> volume_by_volser(Db& db, const std::string& volser) {
  auto q = db.prepare(std::string("SELECT ") + kVolumeColumns + " FROM volumes v WHERE v.volser = ?1");
  if (!q.ok()) return q.error();
  q->bind(1, volser);
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<VolumeRow>();
  return std::optional<VolumeRow>(read_volume(*q));
}

Result<std::vector<VolumeSetRef>> sets_on_volume(Db& db, std::int64_t volume_id) {
  RECALL_CACHED_STMT(q, db,
                     "SELECT vs.set_id, h.name, coalesce(p.at, 0) FROM volume_sets vs "
                     "JOIN backup_sets b ON b.id = vs.set_id JOIN hosts h ON h.id = b.host_id "
                     "LEFT JOIN points p ON p.set_id = b.id WHERE vs.volume_id = ?1 ORDER BY h.name, p.at");
  q->bind(1, volume_id);
  std::vector<VolumeSetRef> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back({q->i64(0), q->text(1), q->i64(2)});
  }
  return out;
}

Result<std::vector<ChunkToCopy>> chunks_without_copy(Db& db, std::int64_t volume_id, int copy) {
  RECALL_CACHED_STMT(q, db,
                     "SELECT l.chunk_id, c.sha256, c.size, l.offset, l.length FROM locations l "
                     "JOIN chunks c ON c.id = l.chunk_id WHERE l.volume_id = ?1 AND NOT EXISTS ("
                     "SELECT 1 FROM locations t JOIN volumes tv ON tv.id = t.volume_id "
                     "WHERE t.chunk_id = l.chunk_id AND t.copy = ?2 AND tv.kind = 'tape') ORDER BY l.offset");
  q->bind(1, volume_id).bind(2, copy);
  std::vector<ChunkToCopy> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    ChunkToCopy c;
    c.chunk_id = q->i64(0);
    auto b = q->blob(1);
    if (b.size() == c.sha.size()) std::copy(b.begin(), b.end(), c.sha.begin());
    c.size = static_cast<std::uint64_t>(q->i64(2));
    c.offset = static_cast<std::uint64_t>(q->i64(3));
    c.length = static_cast<std::uint32_t>(q->i64(4));
    out.push_back(c);
  }
  return out;
}

Status commit_tape_copies(Db& db, const std::string& volser, const std::string& path, int copy,
                          std::uint64_t committed_bytes, const std::vector<TapeCopyRow>& rows,
                          const std::vector<std::int64_t>& sources, bool full) {
  auto txn = Transaction::begin(db);
  if (!txn.ok()) return txn.error();
  std::int64_t volume_id = 0;
  {
    RECALL_CACHED_STMT(q, db, "SELECT id, kind, pool, state FROM volumes WHERE volser = ?1");
    q->bind(1, volser);
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (*r) {
      if (q->text(1) != "tape")
        return make_error(ErrorKind::Conflict,
                          "volume " + volser + " is a " + q->text(1) + " volume, not a cartridge");
      if (q->i64(2) != copy)
        return make_error(ErrorKind::Conflict, "cartridge " + volser + " holds copy " +
                                                   std::to_string(q->i64(2)) + ", not copy " +
                                                   std::to_string(copy));
      if (q->text(3) == "full") return make_error(ErrorKind::Conflict, "cartridge " + volser + " is sealed");
      volume_id = q->i64(0);
    }
  }
  if (volume_id == 0) {
    RECALL_CACHED_STMT(ins, db,
                       "INSERT INTO volumes(volser, kind, path, created, pool) "
                       "VALUES (?1, 'tape', ?2, strftime('%s','now'), ?3)");
    ins->bind(1, volser).bind(2, path).bind(3, copy);
    RECALL_TRY(ins->run());
    volume_id = db.last_insert_id();
  }
  RECALL_CACHED_STMT(
      loc, db,
      "INSERT OR REPLACE INTO locations(chunk_id, volume_id, copy, offset, length, codec, span) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (const auto& row : rows) {
    loc->bind(1, row.chunk_id).bind(2, volume_id).bind(3, copy);
    loc->bind(4, static_cast<std::int64_t>(row.offset)).bind(5, row.length).bind(6, row.codec);
    if (row.span.empty()) {
      loc->bind_null(7);
    } else {
      loc->bind_blob(7, encode_u64_blob(row.span));
    }
    RECALL_TRY(loc->run());
    loc->reset();
  }
  RECALL_CACHED_STMT(bytes, db, "UPDATE volumes SET bytes = ?1, state = ?3 WHERE id = ?2");
  bytes->bind(1, static_cast<std::int64_t>(committed_bytes))
      .bind(2, volume_id)
      .bind(3, full ? "full" : "online");
  RECALL_TRY(bytes->run());
  RECALL_CACHED_STMT(sets, db,
                     "INSERT OR IGNORE INTO volume_sets(volume_id, set_id) "
                     "SELECT ?1, set_id FROM volume_sets WHERE volume_id = ?2");
  for (std::int64_t src : sources) {
    sets->bind(1, volume_id).bind(2, src);
    RECALL_TRY(sets->run());
    sets->reset();
  }
  return txn->commit();
}

Result<std::int64_t> evict_disk_volume(Db& db, std::int64_t volume_id, int copies) {
  auto txn = Transaction::begin(db);
  if (!txn.ok()) return txn.error();
  {
    RECALL_CACHED_STMT(kind, db, "SELECT kind, volser FROM volumes WHERE id = ?1");
    kind->bind(1, volume_id);
    auto r = kind->step();
    if (!r.ok()) return r.error();
    if (!*r) return make_error(ErrorKind::NotFound, "no volume " + std::to_string(volume_id));
    if (kind->text(0) != "disk")
      return make_error(ErrorKind::Invalid, "volume " + kind->text(1) + " is not a disk volume");
  }
  RECALL_CACHED_STMT(
      missing, db,
      "SELECT count(*) FROM locations l WHERE l.volume_id = ?1 AND (SELECT count(DISTINCT t.copy) "
      "FROM locations t JOIN volumes tv ON tv.id = t.volume_id WHERE t.chunk_id = l.chunk_id "
      "AND tv.kind = 'tape' AND t.copy BETWEEN 1 AND ?2) < ?2");
  missing->bind(1, volume_id).bind(2, copies);
  auto r = missing->step();
  if (!r.ok()) return r.error();
  if (missing->i64(0) > 0)
    return make_error(ErrorKind::Conflict, std::to_string(missing->i64(0)) +
                                               " chunks on it have fewer than " + std::to_string(copies) +
                                               " copies on tape; migrate it first");
  RECALL_CACHED_STMT(del, db, "DELETE FROM locations WHERE volume_id = ?1");
  del->bind(1, volume_id);
  RECALL_TRY(del->run());
  const std::int64_t dropped = db.changes();
  RECALL_CACHED_STMT(mark, db, "UPDATE volumes SET state = 'evicted', bytes = 0 WHERE id = ?1");
  mark->bind(1, volume_id);
  RECALL_TRY(mark->run());
  RECALL_TRY(txn->commit());
  return dropped;
}

Result<std::vector<std::string>> evicted_volume_paths(Db& db) {
  auto q = db.prepare("SELECT path FROM volumes WHERE kind = 'disk' AND state = 'evicted'");
  if (!q.ok()) return q.error();
  std::vector<std::string> out;
  for (;;) {
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    out.push_back(q->text(0));
  }
  return out;
}

}  // namespace recall::store
