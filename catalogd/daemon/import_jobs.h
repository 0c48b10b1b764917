// Imports run as jobs inside recalld: the CLI starts one, follows its progress and may cancel
// it (the catalog then stays as before). One import writes at a time; reads never wait.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalogd/daemon/migration.h"
#include "importers/dir_importer.h"
#include "importers/manifest_importer.h"
#include "importers/restic_importer.h"
#include "importers/tar_importer.h"
#include "importers/volume_scan.h"

namespace recall::daemon {

struct Job {
  std::uint64_t id = 0;
  std::uint32_t owner_uid = 0;
  std::string kind;  // "import dir" | "import tar" | "import manifest" | "import restic" | "migrate"
  std::string host;
  std::string source;
  UnixTime started = 0;
  std::atomic<bool> cancel{false};
  import::ImportProgress progress;
  std::shared_ptr<MigrationProgress> migration;  // kind "migrate"
  mutable std::mutex mu;                         // guards the fields below
  std::string state = "queued";                  // queued | running | complete | failed | cancelled
  nlohmann::json report;
  std::optional<Error> error;
  std::thread thread;
};

inline constexpr std::size_t kKeptJobs = 100;

class JobManager {
 public:
  JobManager(std::string catalog_path, std::string pool_dir, std::string home);
  ~JobManager();  // cancels and joins every job
  std::shared_ptr<Job> start_dir_import(std::uint32_t owner, import::DirImportOptions options);
  std::shared_ptr<Job> start_tar_import(std::uint32_t owner, import::TarImportOptions options);
  std::shared_ptr<Job> start_manifest_import(std::uint32_t owner, import::ManifestImportOptions options);
  // The password travels in `options` only: it is not kept in the job, its report or the log.
  std::shared_ptr<Job> start_restic_import(std::uint32_t owner, import::ResticImportOptions options);
  std::shared_ptr<Job> start_scan(std::uint32_t owner, import::VolumeScanOptions options);
  // One migration at a time: Conflict while another runs.
  Result<std::shared_ptr<Job>> start_migration(std::uint32_t owner, MigrateOptions options);
  bool migration_running();
  // Migrations need the tape bridge and the disk volumes' readers.
  void set_tape(TapeService* tape, VolumeCache* disks) {
    tape_ = tape;
    disks_ = disks;
  }
  std::shared_ptr<Job> find(std::uint64_t id);
  std::vector<std::shared_ptr<Job>> all();
  void cancel_all();
  // Cancels every job and waits for it to end (before what the jobs use goes away).
  void shutdown();
  std::mutex& write_mutex() { return write_mu_; }

  static nlohmann::json to_json(const Job& job);

 private:
  void run_import(std::shared_ptr<Job> job, import::DirImportOptions options);
  void run_tar_import(std::shared_ptr<Job> job, import::TarImportOptions options);
  // Runs `work` on a writable catalog connection under the write lock, and records its outcome
  // (a JSON report, or the error) in the job.
  void run_writer_job(const std::shared_ptr<Job>& job, const std::string& what,
                      const std::function<Result<nlohmann::json>(store::Db&)>& work);
  void run_migration_job(std::shared_ptr<Job> job, MigrateOptions options);
  std::shared_ptr<Job> add_job(std::uint32_t owner, std::string kind, std::string host, std::string source);
  std::string catalog_path_, pool_dir_, home_;
  std::mutex mu_;
  std::mutex write_mu_;  // one importer writes at a time (SQLite has one writer anyway)
  std::map<std::uint64_t, std::shared_ptr<Job>> jobs_;
  std::uint64_t next_id_ = 1;
  std::mutex start_mu_;  // start_migration: the check and the start together
  TapeService* tape_ = nullptr;
  VolumeCache* disks_ = nullptr;
};

}  // namespace recall::daemon
