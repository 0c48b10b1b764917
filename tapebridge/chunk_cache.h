// The staging cache: chunks brought in from tape, kept on disk under DIR as the blocks they were
// on the cartridge (header and payload), so every read from here is verified like a read from a
// volume (CRC32, SHA-256 of the plain bytes). Bounded by bytes; least recently used entries go
// first, but never one that is pinned: a reader that waits for a chunk holds a Pin on it from the
// moment it lands until it has read it. Only pinned entries can push the cache past its bound.
// Entries outlive the daemon: a restart indexes what is there.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"

namespace recall::tape {

class ChunkCache {
 public:
  struct Stats {
    std::size_t entries = 0, pinned = 0;
    std::uint64_t bytes = 0, capacity = 0;
    std::uint64_t hits = 0, misses = 0, puts = 0, evictions = 0, corrupt = 0;
  };

  // Keeps an entry from eviction while it lives. Movable, not copyable.
  class Pin {
   public:
    Pin() = default;
    Pin(Pin&& o) noexcept : cache_(o.cache_), sha_(o.sha_), gen_(o.gen_) { o.cache_ = nullptr; }
    Pin& operator=(Pin&& o) noexcept;
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() { release(); }
    void release();
    bool valid() const { return cache_ != nullptr; }
    const Digest& sha() const { return sha_; }

   private:
    friend class ChunkCache;
    Pin(ChunkCache* cache, const Digest& sha, std::uint64_t gen) : cache_(cache), sha_(sha), gen_(gen) {}
    ChunkCache* cache_ = nullptr;
    Digest sha_{};
    std::uint64_t gen_ = 0;  // of the entry it pins: an entry staged again after a drop is another
  };

  ChunkCache(std::string dir, std::uint64_t capacity_bytes);
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  // Creates DIR (0700) and indexes the entries an earlier run left, oldest first.
  Status open();

  // Stores a block the caller has verified (decode_chunk_block) for chunk `sha` and pins it.
  // Io when the disk has no room left for it (a reserve of 5% is kept free).
  Result<Pin> put(const Digest& sha, std::span<const std::uint8_t> block);
  // Pins the entry for `sha` if there is one (counts a hit or a miss).
  std::optional<Pin> pin(const Digest& sha);
  bool contains(const Digest& sha) const;
  // Another pin on the entry `pin` holds (not counted as a hit).
  Pin share(const Pin& pin);
  // The plain bytes of a pinned chunk, verified. A damaged entry is removed and is Corrupt.
  Result<std::vector<std::uint8_t>> read(const Pin& pin);

  Stats stats() const;  // counts pinned entries: not for a hot path
  std::uint64_t capacity() const { return capacity_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    std::uint64_t bytes = 0;
    int pins = 0;
    std::list<Digest>::iterator lru;
    std::uint64_t gen = 0;
  };
  struct DigestHash {
    std::size_t operator()(const Digest& d) const;
  };
  std::string path_of(const Digest& sha) const;
  void unpin(const Digest& sha, std::uint64_t gen);
  void touch(Entry& e);
  // With mu_ held: drops unpinned entries, oldest first, until `incoming` more bytes fit.
  void make_room(std::uint64_t incoming);
  void drop(const Digest& sha);  // with mu_ held
  Status check_disk_room(std::uint64_t bytes) const;

  const std::string dir_;
  const std::uint64_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Digest, Entry, DigestHash> entries_;
  std::list<Digest> lru_;  // most recently used first
  std::uint64_t bytes_ = 0;
  std::uint64_t next_gen_ = 1;
  mutable Stats counters_;
};

}  // namespace recall::tape
