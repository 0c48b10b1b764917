// `recall import dir`: records a directory tree of this machine as a new point of a host.
// The first point of a host is a full backup; later ones are forward-merged: files whose
// size, mtime, ctime and inode are unchanged are not read and their versions simply stay
// valid, deletions end a version's validity, and every point is still a complete image.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "catalogd/store/sqlite.h"
#include "common/time.h"
#include "importers/chunker.h"
#include "importers/import_progress.h"

namespace recall::import {

struct DirImportOptions {
  std::string host;
  UnixTime at = 0;
  std::string source;     // absolute path of the tree to read on this machine
  std::string record_as;  // where it lived on the host ("" = same as source), e.g. "/" for a snapshot
  bool cross_filesystems = false;
  std::vector<std::string> exclude;  // absolute paths never recorded (recalld's own home)
  std::string pool_dir;              // where new disk-pool volumes are written
  std::string catalog_path;          // for the workers' own read connections
  int zstd_level = 3;
  int threads = 0;  // 0: one per core
  ChunkerParams chunker;
};

struct DirImportReport {
  std::string host;
  UnixTime at = 0;
  std::string kind;  // full | incremental
  std::int64_t seq = 0;
  std::uint64_t entries = 0, files_read = 0, files_unchanged = 0, changed = 0, deleted = 0;
  std::uint64_t bytes_total = 0, bytes_read = 0, new_bytes = 0, stored_bytes = 0, new_chunks = 0;
  double seconds = 0;
  std::vector<SkippedEntry> skipped;
  std::vector<std::string> warnings;  // e.g. files that changed while being read
};

// Runs the whole import in one catalog transaction on `db`: it becomes visible at once
// when it returns successfully, and leaves the catalog untouched on any error or on cancel.
Result<DirImportReport> import_dir(store::Db& db, const DirImportOptions& options, ImportProgress& progress,
                                   const std::atomic<bool>& cancel);

}  // namespace recall::import
