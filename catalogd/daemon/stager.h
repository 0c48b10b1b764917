// Staging for the FUSE mount's fast read path: a file's content is read from its volumes (or staged
// from tape) once, verified (ContentSource::read), written to an anonymous file in the staging directory, and
// handed out as a read-only descriptor that the mount reads with pread at local-disk speed.
//
// Staged files are kept in an LRU keyed by content id, bounded by total bytes and by file count
// (each kept file holds a descriptor). Concurrent stage() calls for one content share a single
// staging; it is withdrawn only when every caller waiting for it has been cancelled.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalogd/daemon/content_reader.h"
#include "common/unique_fd.h"

namespace recall::daemon {

class Stager {
 public:
  static constexpr std::uint64_t kDefaultCacheBytes = 2ull << 30;
  static constexpr std::size_t kDefaultMaxFiles = 1024;

  // `stage_dir` must exist and be private to the daemon (0700): it holds the anonymous files.
  Stager(std::string stage_dir, std::uint64_t cache_bytes, ContentSource& source, StreamCounters& counters,
         std::size_t max_files = kDefaultMaxFiles);
  Stager(const Stager&) = delete;
  Stager& operator=(const Stager&) = delete;

  // A new read-only descriptor (close-on-exec, offset 0) of a verified copy of `content`, owned by
  // the caller; it stays valid after the copy is evicted. A content larger than the cache is
  // staged and returned but not kept. Errors are ContentSource::read's (Offline, Corrupt, ...), Io
  // for the staging area, and Cancelled when the request's cancelled() turned true while waiting or
  // staging. The first caller's request (who, priority) is the one a tape staging is queued with.
  Result<UniqueFd> stage(const store::ContentRow& content, const std::vector<store::ChunkLocation>& chunks,
                         const ReadRequest& request = {});

  // The kept copy of a content, without staging anything; nullopt when there is none (yet).
  Result<std::optional<UniqueFd>> cached(std::int64_t content_id);

  struct Stats {
    std::size_t files = 0;    // kept now
    std::uint64_t bytes = 0;  // their total size
    std::size_t staging = 0;  // stagings in progress
  };
  Stats stats() const;

 private:
  struct Entry {
    enum class State { Staging, Ready, Failed } state = State::Staging;
    UniqueFd file;  // the anonymous file, read-write; closed when the last holder lets go
    std::uint64_t size = 0;
    Error error;       // when Failed
    int interest = 1;  // callers of a running staging that have not been cancelled, incl. its runner
    bool kept = false;
    std::list<std::int64_t>::iterator lru_pos;
  };

  Result<UniqueFd> run_staging(const std::shared_ptr<Entry>& e, const store::ContentRow& content,
                               const std::vector<store::ChunkLocation>& chunks, const ReadRequest& request);
  Result<UniqueFd> wait_for(const std::shared_ptr<Entry>& e, std::int64_t content_id,
                            const std::function<bool()>& cancelled);
  Result<UniqueFd> create_file() const;
  Status check_room(int fd, std::uint64_t size) const;
  // These three run with mu_ held. forget() drops an entry from the map and the LRU (the caller
  // keeps its own reference); keep() adds one to the LRU and evicts the oldest beyond the bounds.
  void forget(std::int64_t content_id, const std::shared_ptr<Entry>& e);
  void keep(std::int64_t content_id, const std::shared_ptr<Entry>& e,
            std::vector<std::shared_ptr<Entry>>& evicted);
  void touch(const std::shared_ptr<Entry>& e);

  const std::string dir_;
  const std::uint64_t cache_bytes_;
  const std::size_t max_files_;
  ContentSource& source_;
  StreamCounters& counters_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // an entry left Staging, or a waiter was cancelled
  std::unordered_map<std::int64_t, std::shared_ptr<Entry>> entries_;  // staging or kept
  std::list<std::int64_t> lru_;  // kept entries, most recently used first
  std::uint64_t kept_bytes_ = 0;
};

}  // namespace recall::daemon
