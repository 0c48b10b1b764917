// Migration by policy: every few minutes recalld checks whether disk volumes are old enough, or
// the pool full enough, to go to tape, and starts a migration job for them (migration.h) when
// none is running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "catalogd/daemon/import_jobs.h"

namespace recall::daemon {

struct MigrationPolicyConfig {
  std::optional<std::int64_t> older_than_s;  // volumes written longer ago than this
  std::optional<double> pool_above, pool_below;
  std::uint64_t pool_capacity = 0;
  int copies = 1;
  std::chrono::seconds every{300};
  bool enabled() const { return older_than_s || pool_above; }
};

class MigrationPolicy {
 public:
  MigrationPolicy(JobManager& jobs, std::string catalog, std::string pool_dir, MigrationPolicyConfig config);
  ~MigrationPolicy();  // stop()
  void start();
  void stop();
  // One check now: starts a job if the policy picks volumes; returns the job's id, or 0.
  std::uint64_t check();

 private:
  JobManager& jobs_;
  const std::string catalog_, pool_dir_;
  const MigrationPolicyConfig config_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace recall::daemon
