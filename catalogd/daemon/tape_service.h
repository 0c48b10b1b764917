// recalld's tape bridge: the library under HOME/tape (its inventory, the simulated drives and
// cartridges, the staging cache) and the staging scheduler, wired together, plus the words the
// API uses for where a volume is.
//
// HOME/tape/library.json       the inventory (tapebridge/library.h)
// HOME/tape/cartridges/*.tape  the simulated cartridges
// HOME/tape/cache/             the staging cache (tapebridge/chunk_cache.h)
#pragma once

#include <memory>
#include <string>

#include "catalogd/store/rows.h"
#include "tapebridge/chunk_cache.h"
#include "tapebridge/library.h"
#include "tapebridge/scheduler.h"
#include "tapebridge/sim_backend.h"

namespace recall::daemon {

struct TapeConfig {
  // Used when HOME/tape/library.json does not exist yet: the library recalld creates.
  tape::LibraryConfig library;
  // Real seconds per model second: 1 is an LTO-8 library's pace, 0 does not wait at all.
  double time_scale = 0.1;
  std::string scheduler = "recall";  // recall | fcfs (the benchmark's baseline)
  std::uint64_t cache_mb = 4096;
  tape::SchedulerConfig scheduling;
};

class TapeService {
 public:
  static Result<std::unique_ptr<TapeService>> open(const std::string& home, TapeConfig config);
  ~TapeService();

  tape::Library& library() { return *library_; }
  tape::StagingScheduler& scheduler() { return *scheduler_; }
  tape::ChunkCache& cache() { return *cache_; }
  tape::TapeBackend& backend() { return *backend_; }
  const TapeConfig& config() const { return config_; }
  std::string cartridge_path(const std::string& volser) const { return backend_->cartridge_path(volser); }

  // "in the library (slot 4)", "in drive 1", "off-site": where a cartridge is, in words.
  std::string where(const std::string& volser) const;
  // A chunk's tape copies in the form the scheduler takes (disk copies left out).
  static tape::WantedChunk wanted(const store::ChunkLocation& chunk);

  void stop();

 private:
  TapeService() = default;
  TapeConfig config_;
  std::unique_ptr<tape::SimBackend> backend_;
  std::unique_ptr<tape::Library> library_;
  std::unique_ptr<tape::ChunkCache> cache_;
  std::unique_ptr<tape::StagingScheduler> scheduler_;
};

}  // namespace recall::daemon
