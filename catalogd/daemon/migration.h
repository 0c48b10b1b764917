// Migration: disk pool to tape. Chunks of chosen disk volumes are copied, as the blocks they are
// (verified, not recompressed), onto cartridges of copy pool 1 (and 2), several source volumes
// interleaved on one drive as separate streams (tape_format.h); then, unless kept, the disk
// volumes are evicted and their files removed.
//
// Nothing is lost at any moment: the catalog learns of a block only once the records holding it
// are written and flushed, in one transaction per commit point; a disk volume is evicted only
// once every chunk on it has all its tape copies committed. A migration killed at any point
// leaves the catalog naming only durable blocks, and running it again resumes: it copies what
// has no copy yet, appending after the cartridge's committed end (overwriting any torn tail).
//
// The drive is borrowed from the staging scheduler, which lends it only when no read needs it
// and asks for it back when one does: at the next commit point the migration flushes, commits,
// gives the drive back, and waits for it again.
#pragma once

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalogd/daemon/content_reader.h"
#include "catalogd/store/volume_catalog.h"

namespace recall::daemon {

class TapeService;

struct MigrateOptions {
  std::vector<std::string> volumes;    // disk volumes by volser
  bool all = false;                    // every disk volume
  std::optional<UnixTime> older_than;  // volumes written before this time
  std::optional<double> pool_above;    // percent: only if the pool is fuller than this...
  std::optional<double> pool_below;    // ...the oldest volumes until it would be this full
  std::uint64_t pool_capacity = 0;     // bytes the pool may hold; 0: the size of its filesystem
  int copies = 1;                      // 1, or 2 on two cartridges (copy 2 to go off-site)
  bool keep_disk = false;              // copy only; the disk volumes stay
  std::size_t streams = 4;             // source volumes interleaved on one drive
  std::uint64_t commit_bytes = 256u << 20;
};

struct MigrationProgress {
  std::atomic<std::uint64_t> volumes{0}, chunks_total{0}, chunks_done{0}, bytes_done{0}, commits{0};
  std::atomic<int> copy{0};
  mutable std::mutex mu;
  std::string cartridge;  // being written now
  std::string state = "choosing volumes";
  nlohmann::json to_json() const;
};

struct MigrationReport {
  std::vector<std::string> volumes;     // migrated (all their chunks have the copies asked for)
  std::vector<std::string> evicted;     // removed from the disk pool
  std::vector<std::string> cartridges;  // written to
  std::uint64_t chunks = 0, bytes = 0, records = 0, commits = 0;
  double seconds = 0, model_seconds = 0;
  std::vector<std::string> warnings;
  nlohmann::json to_json() const;
};

// The disk volumes a migration with these options would take, oldest first. Invalid when the
// options choose nothing to decide by, NotFound for an unknown volser.
Result<std::vector<store::VolumeRow>> select_for_migration(store::Db& db, const MigrateOptions& options,
                                                           const std::string& pool_dir);

// Runs one migration; `write_mu` serialises catalog writers (imports hold it for their whole run,
// a migration only for each commit).
Result<MigrationReport> run_migration(const std::string& catalog_path, const std::string& pool_dir,
                                      TapeService& tape, VolumeCache& disks, const MigrateOptions& options,
                                      MigrationProgress& progress, const std::atomic<bool>& cancel,
                                      std::mutex& write_mu);

}  // namespace recall::daemon
