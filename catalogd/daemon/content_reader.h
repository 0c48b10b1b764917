// Reads a file's bytes from wherever its chunks are, verified: every chunk's block checksum and
// SHA-256 as it is read, and the whole file's SHA-256 at the end. Chunks with a disk copy are read
// from the pool; the others are staged from tape through the tape bridge, in windows, the next
// window asked for while the current one is read. The one loop behind streaming a file to a client
// (content_stream.h) and staging it for the FUSE mount (stager.h).
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

#include "catalogd/daemon/archive_reader.h"
#include "catalogd/store/rows.h"
#include "common/result.h"
#include "tapebridge/staging_types.h"
#include "tapebridge/volume_reader.h"

namespace recall::daemon {

class TapeService;

// Open volume readers shared by all request threads (read_chunk is thread-safe).
class VolumeCache {
 public:
  Result<std::shared_ptr<tape::VolumeReader>> get(const std::string& volser, const std::string& path);
  // `key_ref`: the key an encrypted archive (a restic pack) needs, kept in the key folder.
  Result<std::shared_ptr<ArchiveReader>> get_archive(const std::string& volser, const std::string& path,
                                                     const std::string& key_ref = "");
  // Where recalld keeps the keys of imported restic repositories (home/keys, root only).
  void set_key_dir(std::string dir) { key_dir_ = std::move(dir); }
  // Closes a volume (its file is being removed after an eviction).
  void forget(const std::string& volser);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<tape::VolumeReader>> open_;
  std::map<std::string, std::shared_ptr<ArchiveReader>> archives_;
  std::string key_dir_;
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
  // Chunks that came from tape (through the staging cache), and disk reads that fell back to tape.
  std::atomic<std::uint64_t> chunks_from_tape{0};
  std::atomic<std::uint64_t> disk_fallbacks{0};
};

// Who reads and how urgently: what the tape bridge needs to queue a read.
struct ReadRequest {
  tape::Requester who;
  tape::Priority priority = tape::Priority::Restore;
  std::string what;  // shown in the queue: "demo:/etc/motd"
  std::string tag;   // "content:ID": how the mount finds the staging of a file (user.recall.staging)
  // Data that would have to wait for a tape is Offline at once instead (the mount's O_NONBLOCK).
  bool nonblock = false;
  std::function<bool()> cancelled;  // polled while waiting; true withdraws the staging
};

using ContentSink = std::function<Status(std::span<const std::uint8_t>)>;

class ContentSource {
 public:
  // `tape` may be null: data only on tape is then Offline.
  ContentSource(VolumeCache& volumes, StreamCounters& counters, TapeService* tape);

  // Reads the chunks of `content` in order and hands each, verified, to `sink`. Stops at the first
  // error: a chunk no copy of which could be read (Corrupt naming each copy, or Offline), an error
  // from `sink` (returned as is), or the request's cancelled() turning true (Cancelled). The whole
  // file's SHA-256 is checked after the last chunk went to `sink`, so a sink must treat the bytes
  // as unconfirmed until this returns OK.
  Status read(const store::ContentRow& content, const std::vector<store::ChunkLocation>& chunks,
              const ReadRequest& request, const ContentSink& sink);

  // OK when read() would not wait for a tape: every chunk has a disk copy online or is staged
  // already. Otherwise Offline, naming the cartridge and where it is.
  Status ready_now(const std::vector<store::ChunkLocation>& chunks) const;

  TapeService* tape() const { return tape_; }
  // Where the catalog says a chunk is now: asked when a disk copy cannot be read, since a
  // migration may have moved it to tape (and evicted the disk volume) while a long read was on.
  using Relocate = std::function<Result<std::vector<store::StoredCopy>>(const Digest&)>;
  void set_relocate(Relocate relocate) { relocate_ = std::move(relocate); }
  // Bytes of tape chunks asked for in one staging request (a quarter of the staging cache, at most
  // 256 MiB), so a file larger than the cache still streams through it.
  std::uint64_t window_bytes() const;

 private:
  Result<std::vector<std::uint8_t>> read_disk(const store::ChunkLocation& chunk);
  Result<std::vector<std::uint8_t>> stage_one(const store::ChunkLocation& chunk, const ReadRequest& request);

  VolumeCache& volumes_;
  StreamCounters& counters_;
  TapeService* tape_;
  Relocate relocate_;
};

}  // namespace recall::daemon
