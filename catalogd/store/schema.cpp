#include "catalogd/store/schema.h"

#include <string>

namespace recall::store {
namespace {

// Migration N takes the schema from version N-1 to N. Never edit a released migration;
// append a new one.
const char* const kMigrations[] = {
    // 1: the spine.
    R"sql(
CREATE TABLE hosts(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  root_node INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL);

CREATE TABLE volumes(
  id INTEGER PRIMARY KEY,
  volser TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('disk', 'tape')),
  path TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'online',
  bytes INTEGER NOT NULL DEFAULT 0,   -- committed length: bytes past it are reclaimable
  created INTEGER NOT NULL);

-- One run of a backup (or an import from another tool). Failed runs are kept for history.
CREATE TABLE backup_sets(
  id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  kind TEXT NOT NULL,                 -- full | incremental
  importer TEXT NOT NULL,             -- dir | tar | restic | manifest | scan
  source TEXT NOT NULL,
  started INTEGER NOT NULL,
  ended INTEGER,
  status TEXT NOT NULL,               -- running (inside its import transaction) | complete
  retention_until INTEGER,
  stats TEXT);                        -- JSON summary of the run

CREATE TABLE points(
  id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  seq INTEGER NOT NULL,               -- 1, 2, 3... per host, in time order
  at INTEGER NOT NULL,                -- Unix seconds, UTC
  set_id INTEGER NOT NULL REFERENCES backup_sets(id),
  UNIQUE (host_id, seq),
  UNIQUE (host_id, at));

-- Every distinct file name once; the search index covers it.
CREATE TABLE names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE names_fts USING fts5(name, content='names', content_rowid='id',
                                          tokenize='trigram');

-- The directory tree of each host: one node per path ever seen, whatever its versions.
CREATE TABLE nodes(
  id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL,
  parent_id INTEGER NOT NULL,         -- -host_id for a host's root
  name_id INTEGER NOT NULL);
CREATE UNIQUE INDEX nodes_by_parent ON nodes(parent_id, name_id);
CREATE INDEX nodes_by_name ON nodes(name_id);

CREATE TABLE contents(
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL UNIQUE,
  size INTEGER NOT NULL);

CREATE TABLE chunks(
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL UNIQUE,
  size INTEGER NOT NULL);

CREATE TABLE content_chunks(
  content_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  chunk_id INTEGER NOT NULL,
  PRIMARY KEY (content_id, idx)) WITHOUT ROWID;

CREATE TABLE locations(
  chunk_id INTEGER NOT NULL,
  volume_id INTEGER NOT NULL REFERENCES volumes(id),
  copy INTEGER NOT NULL DEFAULT 1,
  offset INTEGER NOT NULL,            -- of the block header in the volume
  length INTEGER NOT NULL,            -- header + payload bytes
  codec INTEGER NOT NULL,
  PRIMARY KEY (chunk_id, copy, volume_id)) WITHOUT ROWID;

-- One state of one path, valid from point from_seq to to_seq of its host (kOpenSeq: still).
CREATE TABLE versions(
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  user TEXT NOT NULL,
  grp TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  nlink INTEGER NOT NULL,
  rdev INTEGER NOT NULL,
  target TEXT,                        -- symlink target
  content_id INTEGER,                 -- regular files
  extra TEXT);                        -- JSON: xattrs and ACLs, NULL when none
CREATE INDEX versions_by_node ON versions(node_id, from_seq);
)sql",
    // 2: find a moved file by its inode, so a renamed directory's files are not read again.
    R"sql(
CREATE INDEX versions_by_ino ON versions(ino);
)sql",
    // 3: the tape bridge. A chunk has copies: 0 in the disk pool, 1 and 2 on tape cartridges of
    // copy pools 1 and 2; a tape block cut by a record boundary lists its continuation records in
    // `span` (little-endian u64s). Volumes say which copy pool they belong to and which backup
    // sets wrote data onto them.
    R"sql(
ALTER TABLE locations ADD COLUMN span BLOB;
ALTER TABLE volumes ADD COLUMN pool INTEGER NOT NULL DEFAULT 0;
UPDATE locations SET copy = 0 WHERE volume_id IN (SELECT id FROM volumes WHERE kind = 'disk');
CREATE INDEX locations_by_volume ON locations(volume_id, offset);
CREATE TABLE volume_sets(
  volume_id INTEGER NOT NULL,
  set_id INTEGER NOT NULL,
  PRIMARY KEY (volume_id, set_id)) WITHOUT ROWID;
-- The set that wrote a volume: the first whose files use its chunks (later ones share them).
INSERT OR IGNORE INTO volume_sets
  SELECT l.volume_id, min(p.set_id) FROM locations l
  JOIN content_chunks cc ON cc.chunk_id = l.chunk_id
  JOIN versions v ON v.content_id = cc.content_id
  JOIN nodes n ON n.id = v.node_id
  JOIN points p ON p.host_id = n.host_id AND p.seq = v.from_seq
  GROUP BY l.volume_id;
)sql",
    // 4: importers. A volume may be an archive another tool wrote (a tar file), whose chunks are
    // plain bytes at an offset in it, checked by their SHA-256 on every read; it is never
    // appended to, migrated or evicted. `sha256` and `size` identify the archive, so importing
    // the same one again is noticed. `key_ref` names the key (in recalld's home, root only) that
    // decrypts an encrypted archive's chunks: a restic pack file, whose blobs a location's
    // codec says how to open. SQLite cannot alter a CHECK: the table is rebuilt.
    // A content's `sha256` is normally the hash of its bytes. Contents imported without reading
    // their bytes (restic trees name their blobs, not the file's hash) get `whole_sha` 0 and a
    // digest of their chunk list instead: every chunk is still checked by its own SHA-256.
    R"sql(
CREATE TABLE volumes_v4(
  id INTEGER PRIMARY KEY,
  volser TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('disk', 'tape', 'archive')),
  path TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'online',
  bytes INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  pool INTEGER NOT NULL DEFAULT 0,
  sha256 BLOB,
  key_ref TEXT);
INSERT INTO volumes_v4(id, volser, kind, path, state, bytes, created, pool)
  SELECT id, volser, kind, path, state, bytes, created, pool FROM volumes;
DROP TABLE volumes;
ALTER TABLE volumes_v4 RENAME TO volumes;
CREATE INDEX volumes_by_sha ON volumes(sha256) WHERE sha256 IS NOT NULL;
ALTER TABLE contents ADD COLUMN whole_sha INTEGER NOT NULL DEFAULT 1;
-- A file whose bytes Recall cannot read (a manifest names a volume Recall does not know): listed,
-- with no chunks and the reason; its content digest is unique, so it never stands for real bytes.
CREATE TABLE content_gaps(
  content_id INTEGER PRIMARY KEY,
  reason TEXT NOT NULL,
  source_sha256 BLOB);               -- the hash the other product recorded, if any
)sql",
    // 5: point records. Every import into the disk pool also writes its point's whole image onto
    // the volumes (as ordinary chunks, so migration copies it to tape), for `recall scan` to rebuild
    // a lost catalog from; this lists the chunks that hold each backup set's record, in order.
    R"sql(
CREATE TABLE set_records(
  set_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  chunk_id INTEGER NOT NULL,
  PRIMARY KEY (set_id, idx)) WITHOUT ROWID;
CREATE INDEX set_records_by_chunk ON set_records(chunk_id);
)sql",
    // 6: the search index of names is brought up to date after an import commits, not inside it
    // (index_new_names): it cost a fifth of an import of a tree of new names. Names above
    // names_upto are not in names_fts yet; search looks them up directly meanwhile.
    R"sql(
CREATE TABLE search_index(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  names_upto INTEGER NOT NULL);
INSERT INTO search_index(id, names_upto) SELECT 1, coalesce(max(id), 0) FROM names;
)sql",
};

}  // namespace

Status migrate(Db& db) {
  int version = 0;
  {  // finalized before migrating: DROP TABLE refuses to run while any statement is pending
    auto st = db.prepare("PRAGMA user_version");
    if (!st.ok()) return st.error();
    auto row = st->step();
    if (!row.ok()) return row.error();
    version = static_cast<int>(st->i64(0));
  }
  if (version > kSchemaVersion)
    return make_error(ErrorKind::Conflict, "catalog " + db.path() + " has schema version " +
                                               std::to_string(version) + ", newer than this recalld (" +
                                               std::to_string(kSchemaVersion) + "); upgrade Recall");
  if (version == kSchemaVersion) return {};
  auto txn = Transaction::begin(db);
  if (!txn.ok()) return txn.error();
  for (int v = version; v < kSchemaVersion; ++v) RECALL_TRY(db.exec(kMigrations[v]));
  RECALL_TRY(db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
  return txn->commit();
}

}  // namespace recall::store
