// Hashes the members of an uncompressed archive where they lie, on worker threads, while the
// importing thread goes on reading headers and writing the catalog.
//
// The importing thread names each member's data range in archive order; the hasher groups
// consecutive members into segments of the archive (about kSegmentBytes each, cut only at the
// end of a member's data, so the grouping depends on the archive alone). A worker reads its
// segment with pread, cuts each member into content-defined chunks and hashes them (SHA-256,
// checked again on every read in place), and hashes the segment itself: the bytes outside any
// member's data (headers, padding, the end blocks) as they are, each member's data as its chunk
// digests. The archive's identity is the SHA-256 over the segments' digests in order: it covers
// every byte of the file once, at no cost beyond the chunk hashes, where a plain SHA-256 of the
// file would be a second, single-threaded pass over all of it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "importers/chunker.h"
#include "importers/import_progress.h"

namespace recall::import {

struct InPlaceChunk {
  Digest sha{};
  std::uint64_t offset = 0;  // in the archive file
  std::uint32_t size = 0;
};

struct HashedMember {
  std::size_t index = 0;  // as the importing thread numbered it
  std::uint64_t size = 0;
  std::vector<InPlaceChunk> chunks;
  Digest content{};  // SHA-256 of the member's bytes
};

struct HashedSegment {
  std::vector<HashedMember> members;
  std::optional<Error> error;  // the archive could not be read (cut short, I/O error)
};

class InPlaceHasher {
 public:
  // `fd` stays owned by the caller and open while the hasher lives; `name` is for errors.
  InPlaceHasher(int fd, std::string name, ChunkerParams params, int threads, ImportProgress& progress,
                const std::atomic<bool>& cancel);
  ~InPlaceHasher();  // stops the workers (an unfinished import just drops its results)
  InPlaceHasher(const InPlaceHasher&) = delete;
  InPlaceHasher& operator=(const InPlaceHasher&) = delete;

  // The next member's data: [offset, offset + size) of the file, after every earlier member's.
  void add(std::size_t index, std::uint64_t offset, std::uint64_t size);
  // No more members: the last segment runs to the end of the file (`file_size`).
  void finish(std::uint64_t file_size);
  // A hashed segment (in the order they complete); false when none is ready (`wait` false) or
  // none is left. Segments not yet taken hold their results in memory: take them as you go.
  bool next(HashedSegment& out, bool wait);
  std::size_t outstanding() const;
  // After finish() and every segment was taken without error: the archive's identity.
  Digest identity();

  static constexpr std::uint64_t kSegmentBytes = 8u << 20;

 private:
  struct Span {
    std::size_t index;
    std::uint64_t offset, size;
  };
  struct Job {
    std::size_t seq;
    std::uint64_t begin, end;
    std::vector<Span> members;
  };
  class Reader;
  void submit_open_segment(std::uint64_t end);
  void work();
  HashedSegment hash_segment(const Job& job, Digest& digest, std::vector<std::uint8_t>& buf);

  const int fd_;
  const std::string name_;
  const Chunker chunker_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;

  Job open_{0, 0, 0, {}};  // the segment members are being added to
  std::size_t next_seq_ = 0;

  mutable std::mutex mu_;
  std::condition_variable jobs_cv_, results_cv_;
  std::deque<Job> jobs_;
  std::deque<HashedSegment> results_;
  std::vector<std::optional<Digest>> digests_;  // by segment number
  std::size_t in_flight_ = 0;
  bool stop_ = false;
  std::atomic<bool> abandon_{false};  // the importer has given up: stop mid-segment too
  std::vector<std::thread> threads_;
};

}  // namespace recall::import
