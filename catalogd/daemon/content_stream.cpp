#include "catalogd/daemon/content_stream.h"

#include "common/sha256.h"

namespace recall::daemon {

Result<std::shared_ptr<tape::VolumeReader>> VolumeCache::get(const std::string& volser, const std::string& path) {
  std::lock_guard lk(mu_);
  if (auto it = open_.find(volser); it != open_.end()) return it->second;
  auto r = tape::VolumeReader::open(path, volser);
  if (!r.ok()) return r.error();
  auto p = std::make_shared<tape::VolumeReader>(std::move(*r));
  open_.emplace(volser, p);
  return p;
}

Status stream_content(Responder& out, const store::ContentRow& content,
                      const std::vector<store::ChunkLocation>& chunks, VolumeCache& volumes,
                      StreamCounters& counters) {
  std::uint64_t total = 0;
  for (const auto& c : chunks) total += c.size;
  if (total != content.size)
    return make_error(ErrorKind::Corrupt, "catalog lists " + std::to_string(total) + " bytes of chunks for a file of " +
                                              std::to_string(content.size) + " bytes");
  // Fetch the first chunk before answering, so a missing volume is a clean error response.
  std::vector<std::uint8_t> first;
  auto read = [&](const store::ChunkLocation& c) -> Result<std::vector<std::uint8_t>> {
    if (c.volume_kind != "disk" || c.volume_state != "online")
      return make_error(ErrorKind::Offline, "data is on volume " + c.volser + ", which is not online");
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
    return data;
  };
  if (!chunks.empty()) {
    auto d = read(chunks.front());
    if (!d.ok()) return d.error();
    first = std::move(*d);
  }
  out.set_header("X-Recall-Sha256", to_hex(content.sha));
  RECALL_TRY(out.begin_stream(boost::beast::http::status::ok, "application/octet-stream", content.size));
  Sha256 whole;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    std::vector<std::uint8_t> data;
    if (i == 0) {
      data = std::move(first);
    } else {
      auto d = read(chunks[i]);
      if (!d.ok()) return d.error();  // the stream is cut off: the client sees a short body
      data = std::move(*d);
    }
    whole.update(data);
    RECALL_TRY(out.write(data));
    counters.bytes_served += data.size();
  }
  if (whole.finish() != content.sha) {
    counters.checksum_failures++;
    return make_error(ErrorKind::Corrupt, "file content does not match its recorded SHA-256");
  }
  return out.finish();
}

}  // namespace recall::daemon
