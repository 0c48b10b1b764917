#include "catalogd/daemon/content_reader.h"

#include "common/sha256.h"

namespace recall::daemon {

Result<std::shared_ptr<tape::VolumeReader>> VolumeCache::get(const std::string& volser,
                                                             const std::string& path) {
  std::lock_guard lk(mu_);
  if (auto it = open_.find(volser); it != open_.end()) return it->second;
  auto r = tape::VolumeReader::open(path, volser);
  if (!r.ok()) return r.error();
  auto p = std::make_shared<tape::VolumeReader>(std::move(*r));
  open_.emplace(volser, p);
  return p;
}

Status check_online(const store::ChunkLocation& c) {
  if (c.volume_kind != "disk" || c.volume_state != "online")
    return make_error(ErrorKind::Offline, "data is on volume " + c.volser + ", which is not online");
  return {};
}

Status check_online(const std::vector<store::ChunkLocation>& chunks) {
  for (const auto& c : chunks) RECALL_TRY(check_online(c));
  return {};
}

Status read_content(const store::ContentRow& content, const std::vector<store::ChunkLocation>& chunks,
                    VolumeCache& volumes, StreamCounters& counters, const ContentSink& sink,
                    const std::function<bool()>& cancelled) {
  std::uint64_t total = 0;
  for (const auto& c : chunks) total += c.size;
  if (total != content.size)
    return make_error(ErrorKind::Corrupt, "catalog lists " + std::to_string(total) +
                                              " bytes of chunks for a file of " +
                                              std::to_string(content.size) + " bytes");
  Sha256 whole;
  for (const auto& c : chunks) {
    if (cancelled && cancelled())
      return make_error(ErrorKind::Cancelled,
                        "reading content " + std::to_string(content.id) + " was cancelled");
    RECALL_TRY(check_online(c));
    auto vol = volumes.get(c.volser, c.volume_path);
    if (!vol.ok()) return vol.error();
    auto data = (*vol)->read_chunk(c.offset, c.length, c.sha);
    if (!data.ok()) {
      counters.checksum_failures++;
      return data.error();
    }
    if (data->size() != c.size)
      return make_error(ErrorKind::Corrupt, "chunk in " + c.volser + " has the wrong length");
    counters.chunks_read++;
    whole.update(*data);
    RECALL_TRY(sink(*data));
  }
  if (whole.finish() != content.sha) {
    counters.checksum_failures++;
    return make_error(ErrorKind::Corrupt, "file content does not match its recorded SHA-256");
  }
  return {};
}

}  // namespace recall::daemon
