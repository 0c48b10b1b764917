// Streams a file's bytes from its volumes: every chunk's block checksum and SHA-256 are
// verified as it is read, and the whole file's SHA-256 at the end. On any mismatch the
// stream is cut off, so a client never receives a silently wrong file.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "catalogd/http/responder.h"
#include "catalogd/store/rows.h"
#include "tapebridge/volume_reader.h"

namespace recall::daemon {

// Open volume readers shared by all request threads (read_chunk is thread-safe).
class VolumeCache {
 public:
  Result<std::shared_ptr<tape::VolumeReader>> get(const std::string& volser, const std::string& path);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<tape::VolumeReader>> open_;
};

struct StreamCounters {
  std::atomic<std::uint64_t> chunks_read{0};
  std::atomic<std::uint64_t> bytes_served{0};
  std::atomic<std::uint64_t> checksum_failures{0};
};

Status stream_content(Responder& out, const store::ContentRow& content,
                      const std::vector<store::ChunkLocation>& chunks, VolumeCache& volumes,
                      StreamCounters& counters);

}  // namespace recall::daemon
