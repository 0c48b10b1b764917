#include "importers/chunk_store.h"

#include <unistd.h>

#include <filesystem>

namespace recall::import {

ChunkStore::ChunkStore(store::PointWriter& writer, std::string pool_dir, ImportProgress& progress, int zstd_level)
    : w_(writer), pool_dir_(std::move(pool_dir)), progress_(progress), zstd_level_(zstd_level) {}

ChunkStore::~ChunkStore() = default;

Result<tape::VolumeWriter*> ChunkStore::volume() {
  if (vol_ && vol_->size() < kVolumeRollover) return vol_.get();
  if (vol_) {
    RECALL_TRY(vol_->seal());
    RECALL_TRY(vol_->close());
    RECALL_TRY(w_.set_volume_bytes(vol_id_, vol_->size()));
    vol_.reset();
  }
  // A volser whose file exists but is unknown to the catalog belongs to a killed import
  // (recalld moves such files aside at start); never reuse its name.
  auto volser = store::next_volser(w_.db(), "D", [&](const std::string& v) {
    return std::filesystem::exists(pool_dir_ + "/" + v + ".vol");
  });
  if (!volser.ok()) return volser.error();
  std::string path = pool_dir_ + "/" + *volser + ".vol";
  auto vw = tape::VolumeWriter::create(path, *volser);
  if (!vw.ok()) return vw.error();
  created_.push_back(path);
  auto id = w_.add_volume(*volser, "disk", path);
  if (!id.ok()) return id.error();
  vol_id_ = *id;
  vol_ = std::make_unique<tape::VolumeWriter>(std::move(*vw));
  return vol_.get();
}

Result<std::int64_t> ChunkStore::put(const PreparedChunk& c, std::span<const std::uint8_t> plain, bool counted) {
  if (auto it = ids_.find(c.sha); it != ids_.end()) return it->second;
  auto found = w_.find_chunk(c.sha);
  if (!found.ok()) return found.error();
  if (*found) {
    if (ids_.size() > 1'000'000) ids_.clear();
    ids_.emplace(c.sha, **found);
    return **found;
  }
  auto vol = volume();
  if (!vol.ok()) return vol.error();
  Result<tape::BlockRef> ref = c.payload ? (*vol)->append_chunk(c.sha, *c.payload)
                                         : (*vol)->append_chunk(c.sha, plain, zstd_level_);
  if (!ref.ok()) return ref.error();
  auto id = w_.add_chunk(c.sha, c.size, vol_id_, ref->offset, ref->length, static_cast<int>(ref->codec));
  if (!id.ok()) return id.error();
  if (counted) {
    progress_.new_chunks++;
    progress_.new_bytes += c.size;
    progress_.stored_bytes += ref->length;
  }
  ids_.emplace(c.sha, *id);
  return *id;
}

Status ChunkStore::finish() {
  if (!vol_) return {};
  RECALL_TRY(vol_->sync());
  return w_.set_volume_bytes(vol_id_, vol_->size());
}

void ChunkStore::discard() {
  vol_.reset();
  for (const auto& p : created_) ::unlink(p.c_str());
  created_.clear();
}

}  // namespace recall::import
