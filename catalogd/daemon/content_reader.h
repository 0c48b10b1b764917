// Reads a file's bytes from its volumes, verified: every chunk's block checksum and SHA-256 as it
// is read, and the whole file's SHA-256 at the end. The one loop behind streaming a file to a
// client (content_stream.h) and staging it for the FUSE mount (stager.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "catalogd/store/rows.h"
#include "common/result.h"
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
  // The stager (stager.h): files and bytes written to the staging area, and stage requests
  // answered from a staged copy (kept, or staged meanwhile for another caller).
  std::atomic<std::uint64_t> files_staged{0};
  std::atomic<std::uint64_t> bytes_staged{0};
  std::atomic<std::uint64_t> stage_hits{0};
};

using ContentSink = std::function<Status(std::span<const std::uint8_t>)>;

// Offline unless the chunk is on a disk volume that is online; the message names the volume.
Status check_online(const store::ChunkLocation& chunk);
// check_online for every chunk of a content: can it be read without waiting for a volume?
Status check_online(const std::vector<store::ChunkLocation>& chunks);

// Reads the chunks of `content` in order and hands each, verified, to `sink`. Stops at the first
// error: a chunk that is not on an online disk (Offline), a corrupt or short chunk (Corrupt), an
// error from `sink` (returned as is), or `cancelled()` returning true before a chunk (Cancelled).
// The whole file's SHA-256 is checked after the last chunk went to `sink`, so a sink must treat
// the bytes as unconfirmed until this returns OK.
Status read_content(const store::ContentRow& content, const std::vector<store::ChunkLocation>& chunks,
                    VolumeCache& volumes, StreamCounters& counters, const ContentSink& sink,
                    const std::function<bool()>& cancelled = {});

}  // namespace recall::daemon
