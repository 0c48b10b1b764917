#include "importers/volume_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "catalogd/store/catalog_writer.h"
#include "importers/point_record.h"
#include "importers/tree_image.h"
#include "tapebridge/volume_reader.h"

namespace recall::import {
namespace {

using store::Db;

std::span<const std::uint8_t> blob(const Digest& d) { return {d.data(), d.size()}; }

struct VolumeRow {
  std::int64_t id = 0;
  bool known = false;
};

Result<VolumeRow> register_volume(Db& db, const std::string& volser, const std::string& path) {
  {
    RECALL_CACHED_STMT(q, db, "SELECT id, kind FROM volumes WHERE volser = ?1");
    q->bind(1, volser);
    auto row = q->step();
    if (!row.ok()) return row.error();
    if (*row) {
      if (q->text(1) != "disk")
        return make_error(ErrorKind::Conflict, path + ": the catalog knows " + volser + " as a " +
                                                   q->text(1) + " volume, not a disk volume");
      return VolumeRow{q->i64(0), true};
    }
  }
  RECALL_CACHED_STMT(
      q, db,
      "INSERT INTO volumes(volser, kind, path, created) VALUES (?1, 'disk', ?2, strftime('%s','now'))");
  q->bind(1, volser).bind(2, path);
  RECALL_TRY(q->run());
  return VolumeRow{db.last_insert_id(), false};
}

// The chunk's catalog id, registering it and this location when the catalog lacks them.
Result<bool> register_chunk(Db& db, std::int64_t volume, const tape::ScannedBlock& b) {
  std::int64_t id = 0;
  bool fresh = false;
  {
    RECALL_CACHED_STMT(q, db, "SELECT id FROM chunks WHERE sha256 = ?1");
    q->bind_blob(1, blob(b.header.plain_sha));
    auto row = q->step();
    if (!row.ok()) return row.error();
    if (*row) id = q->i64(0);
  }
  if (id == 0) {
    RECALL_CACHED_STMT(q, db, "INSERT INTO chunks(sha256, size) VALUES (?1, ?2)");
    q->bind_blob(1, blob(b.header.plain_sha)).bind(2, static_cast<std::int64_t>(b.header.plain_length));
    RECALL_TRY(q->run());
    id = db.last_insert_id();
    fresh = true;
  }
  RECALL_CACHED_STMT(q, db,
                     "INSERT OR IGNORE INTO locations(chunk_id, volume_id, copy, offset, length, codec) "
                     "VALUES (?1, ?2, 0, ?3, ?4, ?5)");
  q->bind(1, id).bind(2, volume).bind(3, static_cast<std::int64_t>(b.offset)).bind(4, b.length);
  q->bind(5, static_cast<std::int64_t>(b.header.codec));
  RECALL_TRY(q->run());
  return fresh;
}

Status set_volume_bytes(Db& db, std::int64_t volume, std::uint64_t bytes) {
  RECALL_CACHED_STMT(q, db, "UPDATE volumes SET bytes = max(bytes, ?1) WHERE id = ?2");
  q->bind(1, static_cast<std::int64_t>(bytes)).bind(2, volume);
  return q->run();
}

Result<bool> point_exists(Db& db, const std::string& host, UnixTime at) {
  RECALL_CACHED_STMT(
      q, db, "SELECT 1 FROM points p JOIN hosts h ON h.id = p.host_id WHERE h.name = ?1 AND p.at = ?2");
  q->bind(1, host).bind(2, at);
  return q->step();
}

struct FoundRecord {
  PointRecord record;
  std::vector<Digest> part_chunks;       // by part index
  std::vector<std::int64_t> volume_ids;  // the volumes its parts lie on
};

struct Scanner {
  Db& db;
  const VolumeScanOptions& o;
  ImportProgress& progress;
  const std::atomic<bool>& cancel;
  nlohmann::json report = {{"volumes", nlohmann::json::array()},  {"points", nlohmann::json::array()},
                           {"already", nlohmann::json::array()},  {"skipped", nlohmann::json::array()},
                           {"warnings", nlohmann::json::array()}, {"incomplete_records", 0}};
  RecordAssembler assembler;
  std::map<Digest, std::map<std::uint32_t, std::pair<Digest, std::int64_t>>>
      part_chunks;  // record -> index -> (chunk, volume)

  Status scan_volume(const std::string& path) {
    auto sc = tape::VolumeScanner::open(path);
    if (!sc.ok()) return sc.error();
    const std::string volser = sc->label().volser;
    auto vol = register_volume(db, volser, path);
    if (!vol.ok()) return vol.error();
    nlohmann::json v = {{"volser", volser}, {"path", path}, {"known", vol->known}};
    std::uint64_t chunks = 0, fresh = 0, records = 0, done_bytes = progress.bytes_read;
    for (;;) {
      if (cancel) return make_error(ErrorKind::Cancelled, "scan cancelled");
      auto b = sc->next();
      if (!b.ok()) {
        if (!o.salvage)
          return make_error(
              b.error().kind,
              b.error().message + "; nothing was recorded (--salvage keeps the blocks before it)");
        v["damage"] = b.error().message;
        report["warnings"].push_back(b.error().message + "; the rest of " + volser + " was not read");
        break;
      }
      if (!*b) break;
      progress.bytes_read = done_bytes + (*b)->offset + (*b)->length;
      if ((*b)->header.type != tape::BlockType::Chunk) continue;
      ++chunks;
      auto isnew = register_chunk(db, vol->id, **b);
      if (!isnew.ok()) return isnew.error();
      if (*isnew) ++fresh, progress.new_chunks++;
      // Point records are written raw; a compressed block is file data.
      if ((*b)->header.codec != tape::Codec::None || !looks_like_record_part(sc->payload())) continue;
      if (sha256(sc->payload()) != (*b)->header.plain_sha)
        return make_error(ErrorKind::Corrupt, "volume " + volser + " (" + path + "): block " +
                                                  std::to_string((*b)->header.block_no) +
                                                  ": SHA-256 mismatch");
      auto part = parse_record_part(sc->payload());
      if (!part.ok()) {
        report["warnings"].push_back("volume " + volser + " block " + std::to_string((*b)->header.block_no) +
                                     ": " + part.error().message + "; ignored");
        continue;
      }
      RECALL_TRY(assembler.add(*part));
      part_chunks[part->record_id][part->index] = {(*b)->header.plain_sha, vol->id};
      ++records;
    }
    RECALL_TRY(set_volume_bytes(db, vol->id, sc->good_bytes()));
    progress.bytes_read = done_bytes + sc->file_size();
    v["blocks"] = sc->blocks();
    v["chunks"] = chunks;
    v["new_chunks"] = fresh;
    v["record_parts"] = records;
    report["volumes"].push_back(std::move(v));
    return {};
  }

  // A content of the record as the catalog's content id: known already, or made from its chunks,
  // or a gap when a chunk was on none of the scanned volumes.
  Result<std::int64_t> content_id(store::PointWriter& w, const PointRecord& r, const RecordContent& c,
                                  std::uint64_t& unavailable) {
    auto known = w.find_content(c.sha, c.whole_sha);
    if (!known.ok()) return known.error();
    if (*known) {
      if (c.gap) ++unavailable;
      return **known;
    }
    if (c.gap) {
      ++unavailable;
      return w.add_gap(c.sha, c.size, *c.gap, c.gap_source_sha);
    }
    std::vector<std::int64_t> ids;
    ids.reserve(c.chunks.size());
    for (auto i : c.chunks) {
      auto id = w.find_chunk(r.chunks[i].sha);
      if (!id.ok()) return id.error();
      if (!*id) {
        ++unavailable;
        // Its own digest: the file's hash must stay free for the real bytes, should they come.
        return w.add_gap(
            sha256("recall scan gap " + to_hex(c.sha)), c.size,
            "chunk " + to_hex(r.chunks[i].sha).substr(0, 16) + " is on none of the scanned volumes",
            std::nullopt);
      }
      ids.push_back(**id);
    }
    return w.add_content(c.sha, c.size, ids, c.whole_sha);
  }

  static void remap(ImageNode& n, const std::vector<std::int64_t>& ids) {
    if (n.content_id != 0) n.content_id = ids[static_cast<std::size_t>(n.content_id - 1)];
    for (auto& [name, child] : n.children) remap(*child, ids);
  }

  Status rebuild(FoundRecord& f) {
    PointRecord& r = f.record;
    const nlohmann::json id = {{"host", r.host}, {"at", format_utc(r.at)}};
    auto exists = point_exists(db, r.host, r.at);
    if (!exists.ok()) return exists.error();
    if (*exists) return report["already"].push_back(id), Status{};
    auto w = store::PointWriter::begin(db, {r.host, r.at, r.importer, r.source, r.kind});
    if (!w.ok()) {
      if (w.error().kind != ErrorKind::Conflict) return w.error();
      nlohmann::json s = id;
      s["reason"] = w.error().message;
      report["skipped"].push_back(std::move(s));
      return {};
    }
    std::vector<std::int64_t> ids;
    ids.reserve(r.contents.size());
    std::uint64_t unavailable = 0;
    for (const auto& c : r.contents) {
      auto cid = content_id(*w, r, c, unavailable);
      if (!cid.ok()) return cid.error();
      ids.push_back(*cid);
    }
    remap(r.image.root(), ids);
    auto st = write_image(*w, r.image, progress);
    if (!st.ok()) return st.error();
    for (std::size_t i = 0; i < f.part_chunks.size(); ++i) {
      auto chunk = w->find_chunk(f.part_chunks[i]);
      if (!chunk.ok()) return chunk.error();
      if (*chunk) RECALL_TRY(w->add_set_record(static_cast<int>(i), **chunk));
    }
    for (auto vol : f.volume_ids) {
      RECALL_CACHED_STMT(q, db, "INSERT OR IGNORE INTO volume_sets(volume_id, set_id) VALUES (?1, ?2)");
      q->bind(1, vol).bind(2, w->set_id());
      RECALL_TRY(q->run());
    }
    nlohmann::json p = id;
    p["seq"] = w->seq();
    p["importer"] = r.importer;
    p["kind"] = w->kind();
    p["entries"] = st->entries;
    p["changed"] = st->changed;
    p["deleted"] = st->deleted;
    p["files"] = r.contents.size();
    p["unavailable"] = unavailable;
    RECALL_TRY(w->commit(r.stats));
    report["points"].push_back(std::move(p));
    return {};
  }

  Status rebuild_all() {
    std::size_t incomplete = 0;
    auto whole = assembler.finish(&incomplete);
    if (!whole.ok()) return whole.error();
    report["incomplete_records"] = incomplete;
    if (incomplete > 0)
      report["warnings"].push_back(
          std::to_string(incomplete) +
          " point record(s) have parts on volumes not scanned; their points are not rebuilt");
    std::vector<FoundRecord> found;
    for (auto& a : *whole) {
      auto rec = decode_point_record(a.encoded);
      if (!rec.ok())
        return make_error(ErrorKind::Corrupt,
                          "point record " + to_hex(a.id).substr(0, 16) + ": " + rec.error().message);
      FoundRecord f;
      f.record = std::move(*rec);
      for (auto& [idx, where] : part_chunks[a.id]) {
        f.part_chunks.push_back(where.first);
        if (std::find(f.volume_ids.begin(), f.volume_ids.end(), where.second) == f.volume_ids.end())
          f.volume_ids.push_back(where.second);
      }
      found.push_back(std::move(f));
    }
    // Oldest first within each host: each point is forward-merged onto the one before it.
    std::sort(found.begin(), found.end(), [](const FoundRecord& a, const FoundRecord& b) {
      return a.record.host != b.record.host ? a.record.host < b.record.host : a.record.at < b.record.at;
    });
    for (auto& f : found) {
      if (cancel) return make_error(ErrorKind::Cancelled, "scan cancelled");
      RECALL_TRY(rebuild(f));
    }
    return {};
  }
};

}  // namespace

Result<nlohmann::json> scan_volumes(Db& db, const VolumeScanOptions& options, ImportProgress& progress,
                                    const std::atomic<bool>& cancel) {
  const auto started = std::chrono::steady_clock::now();
  if (options.volumes.empty()) return make_error(ErrorKind::Invalid, "scan: no volumes given");
  for (const auto& path : options.volumes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return io_error("cannot scan " + path, errno);
    if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::Invalid, path + ": not a volume file");
    progress.bytes_total += static_cast<std::uint64_t>(st.st_size);
  }
  auto txn = store::Transaction::begin(db);
  if (!txn.ok()) return txn.error();
  Scanner s{db, options, progress, cancel};
  for (const auto& path : options.volumes) RECALL_TRY(s.scan_volume(path));
  RECALL_TRY(s.rebuild_all());
  RECALL_TRY(txn->commit());
  s.report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return s.report;
}

}  // namespace recall::import
