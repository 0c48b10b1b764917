// Worker side of an import: reads files, cuts them into content-defined chunks, hashes them
// and compresses the chunks the catalog does not have yet, on a pool of threads, so the
// importing thread only deduplicates and writes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "importers/chunk_store.h"
#include "importers/chunker.h"

namespace recall::import {

struct HashJob {
  std::uint64_t id = 0;
  std::string path;
  std::uint64_t dev = 0;  // what the walk saw: the file read must be that very file
  std::uint64_t ino = 0;
};

// A piece of a job's result: the next chunks of the file, and at the end its totals.
struct HashBatch {
  std::uint64_t job = 0;
  std::vector<PreparedChunk> chunks;
  bool done = false;
  Digest content{};
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool changed_while_reading = false;
  std::optional<Error> error;  // the file could not be read: skip it
  std::size_t bytes_held() const;
};

// Says whether a chunk is already stored (committed earlier, or stored by this import).
using ChunkKnown = std::function<bool(const Digest&)>;

class HashPool {
 public:
  // `make_known` is called once per worker thread: each gets its own catalog connection.
  HashPool(int threads, ChunkerParams params, int zstd_level, std::function<ChunkKnown()> make_known,
           ImportProgress& progress, const std::atomic<bool>& cancel);
  ~HashPool();
  void submit(HashJob job);
  // Next finished batch; blocks while work is outstanding. False when nothing is left.
  bool next(HashBatch& out, bool wait);
  std::size_t outstanding() const;

 private:
  void work(ChunkKnown known);
  void emit(HashBatch&& b);
  void hash_file(const HashJob& job, const ChunkKnown& known);

  Chunker chunker_;
  int level_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;
  mutable std::mutex mu_;
  std::condition_variable jobs_cv_, results_cv_, space_cv_;
  std::deque<HashJob> jobs_;
  std::deque<HashBatch> results_;
  std::size_t results_bytes_ = 0;
  std::size_t in_flight_ = 0;  // jobs submitted and not yet fully emitted
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Results may hold this many bytes before workers wait for the importing thread.
inline constexpr std::size_t kMaxQueuedBytes = 256u << 20;

}  // namespace recall::import
