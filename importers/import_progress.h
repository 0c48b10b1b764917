// Counters an import updates as it goes; read concurrently by the daemon's job status.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace recall::import {

struct ImportProgress {
  std::atomic<std::uint64_t> entries{0};          // paths seen by the walk
  std::atomic<std::uint64_t> files_read{0};       // regular files whose bytes were read
  std::atomic<std::uint64_t> files_unchanged{0};  // kept from the previous point unread
  std::atomic<std::uint64_t> entries_changed{0};  // new or changed versions recorded
  std::atomic<std::uint64_t> entries_deleted{0};  // versions whose validity ended
  std::atomic<std::uint64_t> skipped{0};          // could not be read
  std::atomic<std::uint64_t> bytes_read{0};       // file bytes read
  std::atomic<std::uint64_t> bytes_total{0};      // size of all regular files in the point
  std::atomic<std::uint64_t> new_chunks{0};
  std::atomic<std::uint64_t> new_bytes{0};        // plain bytes of chunks not stored before
  std::atomic<std::uint64_t> stored_bytes{0};     // bytes written to volumes (compressed + headers)
};

struct SkippedEntry {
  std::string path;
  std::string reason;
};

}  // namespace recall::import
