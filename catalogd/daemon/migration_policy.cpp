#include "catalogd/daemon/migration_policy.h"

#include <cstdio>

namespace recall::daemon {

MigrationPolicy::MigrationPolicy(JobManager& jobs, std::string catalog, std::string pool_dir,
                                 MigrationPolicyConfig config)
    : jobs_(jobs), catalog_(std::move(catalog)), pool_dir_(std::move(pool_dir)), config_(config) {}

MigrationPolicy::~MigrationPolicy() { stop(); }

void MigrationPolicy::start() {
  if (!config_.enabled() || thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!cv_.wait_for(lk, config_.every, [this] { return stopping_; })) {
      lk.unlock();
      check();
      lk.lock();
    }
  });
}

void MigrationPolicy::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t MigrationPolicy::check() {
  if (!config_.enabled() || jobs_.migration_running()) return 0;
  MigrateOptions o;
  if (config_.older_than_s) o.older_than = now_utc() - *config_.older_than_s;
  o.pool_above = config_.pool_above;
  o.pool_below = config_.pool_below;
  o.pool_capacity = config_.pool_capacity;
  o.copies = config_.copies;
  auto db = store::Db::open(catalog_, false, true);
  if (!db.ok()) return 0;
  auto chosen = select_for_migration(**db, o, pool_dir_);
  if (!chosen.ok() || chosen->empty()) return 0;
  for (const auto& v : *chosen) o.volumes.push_back(v.volser);
  auto job = jobs_.start_migration(0, std::move(o));
  if (!job.ok()) return 0;
  std::fprintf(stderr, "recalld: migration policy: migrating %zu disk volumes to tape (job %llu)\n",
               chosen->size(), static_cast<unsigned long long>((*job)->id));
  return (*job)->id;
}

}  // namespace recall::daemon
