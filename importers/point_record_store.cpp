#include "importers/point_record_store.h"

#include <unordered_map>

namespace recall::import {
namespace {

Digest digest_of(std::span<const std::uint8_t> b) {
  Digest d{};
  if (b.size() == d.size()) std::copy(b.begin(), b.end(), d.begin());
  return d;
}

class RecordBuilder {
 public:
  RecordBuilder(store::Db& db, PointRecord& r) : db_(db), r_(r) {}

  // Renumbers a catalog content id to its index + 1 in the record, adding it on first sight.
  Result<std::int64_t> content(std::int64_t catalog_id) {
    if (auto it = contents_.find(catalog_id); it != contents_.end()) return it->second;
    RecordContent c;
    {
      RECALL_CACHED_STMT(q, db_,
                         "SELECT c.sha256, c.size, c.whole_sha, g.reason, g.source_sha256 FROM contents c "
                         "LEFT JOIN content_gaps g ON g.content_id = c.id WHERE c.id = ?1");
      q->bind(1, catalog_id);
      auto row = q->step();
      if (!row.ok()) return row.error();
      if (!*row)
        return make_error(ErrorKind::Internal, "content " + std::to_string(catalog_id) + " is missing");
      c.sha = digest_of(q->blob(0));
      c.size = static_cast<std::uint64_t>(q->i64(1));
      c.whole_sha = q->i64(2) != 0;
      if (!q->is_null(3)) c.gap = q->text(3);
      if (!q->is_null(4)) c.gap_source_sha = digest_of(q->blob(4));
    }
    RECALL_CACHED_STMT(
        q, db_,
        "SELECT ch.id, ch.sha256, ch.size FROM content_chunks cc JOIN chunks ch ON ch.id = cc.chunk_id "
        "WHERE cc.content_id = ?1 ORDER BY cc.idx");
    q->bind(1, catalog_id);
    for (;;) {
      auto row = q->step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      const std::int64_t chunk = q->i64(0);
      auto [it, fresh] = chunks_.emplace(chunk, static_cast<std::uint32_t>(r_.chunks.size()));
      if (fresh) r_.chunks.push_back({digest_of(q->blob(1)), static_cast<std::uint32_t>(q->i64(2))});
      c.chunks.push_back(it->second);
    }
    r_.contents.push_back(std::move(c));
    const auto index = static_cast<std::int64_t>(r_.contents.size());
    contents_.emplace(catalog_id, index);
    return index;
  }

  Status renumber(ImageNode& n) {
    if (n.content_id != 0) {
      auto i = content(n.content_id);
      if (!i.ok()) return i.error();
      n.content_id = *i;
    }
    for (auto& [name, child] : n.children) RECALL_TRY(renumber(*child));
    return {};
  }

 private:
  store::Db& db_;
  PointRecord& r_;
  std::unordered_map<std::int64_t, std::int64_t> contents_;
  std::unordered_map<std::int64_t, std::uint32_t> chunks_;
};

}  // namespace

Result<PointRecord> record_of_point(store::PointWriter& writer, const std::string& stats_json) {
  PointRecord r;
  r.host = writer.spec().host;
  r.at = writer.spec().at;
  r.importer = writer.spec().importer;
  r.source = writer.spec().source;
  r.kind = writer.kind();
  r.stats = stats_json;
  auto image = load_open_image(writer);
  if (!image.ok()) return image.error();
  r.image = std::move(*image);
  RecordBuilder b(writer.db(), r);
  RECALL_TRY(b.renumber(r.image.root()));
  return r;
}

Result<int> store_point_record(store::PointWriter& writer, ChunkStore& chunks, const PointRecord& record) {
  const auto parts = frame_record_parts(encode_point_record(record));
  int idx = 0;
  for (const auto& p : parts) {
    PreparedChunk c;
    c.sha = sha256(p);
    c.size = static_cast<std::uint32_t>(p.size());
    c.payload = tape::CompressedChunk{tape::Codec::None, c.size, p};
    auto id = chunks.put(c, {}, false);
    if (!id.ok()) return id.error();
    RECALL_TRY(writer.add_set_record(idx++, *id));
  }
  return idx;
}

}  // namespace recall::import
