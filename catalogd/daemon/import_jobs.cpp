#include "catalogd/daemon/import_jobs.h"

#include <chrono>
#include <cstdio>

#include "catalogd/http/http_errors.h"
#include "catalogd/store/catalog_writer.h"

namespace recall::daemon {

JobManager::JobManager(std::string catalog_path, std::string pool_dir, std::string home)
    : catalog_path_(std::move(catalog_path)), pool_dir_(std::move(pool_dir)), home_(std::move(home)) {}

JobManager::~JobManager() { shutdown(); }

void JobManager::shutdown() {
  cancel_all();
  std::vector<std::shared_ptr<Job>> all;
  {
    std::lock_guard lk(mu_);
    for (auto& [id, j] : jobs_) all.push_back(j);
  }
  for (auto& j : all)
    if (j->thread.joinable() && j->thread.get_id() != std::this_thread::get_id()) j->thread.join();
}

void JobManager::cancel_all() {
  std::lock_guard lk(mu_);
  for (auto& [id, j] : jobs_) j->cancel = true;
}

std::shared_ptr<Job> JobManager::add_job(std::uint32_t owner, std::string kind, std::string host,
                                         std::string source) {
  auto job = std::make_shared<Job>();
  job->owner_uid = owner;
  job->kind = std::move(kind);
  job->host = std::move(host);
  job->source = std::move(source);
  job->started = now_utc();
  std::lock_guard lk(mu_);
  job->id = next_id_++;
  jobs_[job->id] = job;
  // Finished jobs are kept for their owners to read, but not forever.
  while (jobs_.size() > kKeptJobs) {
    auto oldest = jobs_.begin();
    std::string state;
    {
      std::lock_guard jl(oldest->second->mu);
      state = oldest->second->state;
    }
    if (state == "queued" || state == "running") break;
    if (oldest->second->thread.joinable()) oldest->second->thread.join();
    jobs_.erase(oldest);
  }
  return job;
}

std::shared_ptr<Job> JobManager::start_dir_import(std::uint32_t owner, import::DirImportOptions options) {
  options.catalog_path = catalog_path_;
  options.pool_dir = pool_dir_;
  options.exclude.push_back(home_);
  auto job = add_job(owner, "import dir", options.host, options.source);
  job->thread = std::thread(
      [this, job, options = std::move(options)]() mutable { run_import(job, std::move(options)); });
  return job;
}

bool JobManager::migration_running() {
  std::lock_guard lk(mu_);
  for (auto& [id, j] : jobs_) {
    if (j->kind != "migrate") continue;
    std::lock_guard jl(j->mu);
    if (j->state == "queued" || j->state == "running") return true;
  }
  return false;
}

Result<std::shared_ptr<Job>> JobManager::start_migration(std::uint32_t owner, MigrateOptions options) {
  if (!tape_ || !disks_) return make_error(ErrorKind::Offline, "this recalld has no tape library");
  // One at a time, checked and started under one lock: two would write to one cartridge.
  std::lock_guard one(start_mu_);
  if (migration_running())
    return make_error(ErrorKind::Conflict, "a migration is running already; follow it with recall status");
  std::string what = options.volumes.empty() ? "policy" : "";
  for (const auto& v : options.volumes) what += (what.empty() ? "" : " ") + v;
  auto job = add_job(owner, "migrate", "", what);
  job->migration = std::make_shared<MigrationProgress>();
  job->thread = std::thread(
      [this, job, options = std::move(options)]() mutable { run_migration_job(job, std::move(options)); });
  return job;
}

void JobManager::run_migration_job(std::shared_ptr<Job> job, MigrateOptions options) {
  {
    std::lock_guard lk(job->mu);
    job->state = "running";
  }
  auto r = run_migration(catalog_path_, pool_dir_, *tape_, *disks_, options, *job->migration, job->cancel,
                         write_mu_);
  std::lock_guard lk(job->mu);
  if (r.ok()) {
    job->state = "complete";
    job->report = r->to_json();
  } else {
    job->state = r.error().kind == ErrorKind::Cancelled ? "cancelled" : "failed";
    job->error = r.error();
    std::fprintf(stderr, "recalld: migration %s: %s\n", job->state.c_str(), r.error().message.c_str());
  }
}

void JobManager::run_writer_job(const std::shared_ptr<Job>& job, const std::string& what,
                                const std::function<Result<nlohmann::json>(store::Db&)>& work) {
  std::lock_guard writer(write_mu_);
  {
    std::lock_guard lk(job->mu);
    if (job->cancel) {
      job->state = "cancelled";
      job->error = make_error(ErrorKind::Cancelled, "import cancelled before it started");
      return;
    }
    job->state = "running";
  }
  auto db = store::Db::open(catalog_path_, false, false);
  Result<nlohmann::json> r = db.ok() ? work(**db) : Result<nlohmann::json>(db.error());
  std::unique_lock lk(job->mu);
  if (r.ok()) {
    job->state = "complete";
    job->report = std::move(*r);
    lk.unlock();
    // The import is visible and its job done; its new names go into the search index now,
    // still under the writer lock (search finds them meanwhile without the index).
    const auto t0 = std::chrono::steady_clock::now();
    if (auto n = store::index_new_names(**db); !n.ok())
      std::fprintf(stderr, "recalld: search index not brought up to date: %s\n", n.error().message.c_str());
    else if (*n > 0)
      std::fprintf(stderr, "recalld: search index: %lld new names in %.2f s\n", static_cast<long long>(*n),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } else {
    job->state = r.error().kind == ErrorKind::Cancelled ? "cancelled" : "failed";
    // Nothing is written to the catalog: a failed import leaves it exactly as before. The
    // job (kept in memory for its owner) and the daemon's log say what happened.
    job->error = r.error();
    std::fprintf(stderr, "recalld: %s %s: %s\n", what.c_str(), job->state.c_str(), r.error().message.c_str());
  }
}

void JobManager::run_import(std::shared_ptr<Job> job, import::DirImportOptions options) {
  run_writer_job(job, "import of " + options.source + " as host " + options.host,
                 [&](store::Db& db) -> Result<nlohmann::json> {
                   auto r = import::import_dir(db, options, job->progress, job->cancel);
                   if (!r.ok()) return r.error();
                   nlohmann::json skipped = nlohmann::json::array();
                   for (const auto& s : r->skipped)
                     skipped.push_back({{"path", s.path}, {"reason", s.reason}});
                   return nlohmann::json{{"host", r->host},
                                         {"at", format_utc(r->at)},
                                         {"kind", r->kind},
                                         {"seq", r->seq},
                                         {"entries", r->entries},
                                         {"files_read", r->files_read},
                                         {"files_unchanged", r->files_unchanged},
                                         {"changed", r->changed},
                                         {"deleted", r->deleted},
                                         {"bytes_total", r->bytes_total},
                                         {"bytes_read", r->bytes_read},
                                         {"new_bytes", r->new_bytes},
                                         {"stored_bytes", r->stored_bytes},
                                         {"new_chunks", r->new_chunks},
                                         {"dedup_ratio", r->new_bytes ? static_cast<double>(r->bytes_read) /
                                                                            static_cast<double>(r->new_bytes)
                                                                      : 0.0},
                                         {"seconds", r->seconds},
                                         {"skipped", std::move(skipped)},
                                         {"warnings", r->warnings}};
                 });
}

std::shared_ptr<Job> JobManager::start_tar_import(std::uint32_t owner, import::TarImportOptions options) {
  options.pool_dir = pool_dir_;
  auto job = add_job(owner, "import tar", options.host, options.archive);
  job->thread = std::thread(
      [this, job, options = std::move(options)]() mutable { run_tar_import(job, std::move(options)); });
  return job;
}

void JobManager::run_tar_import(std::shared_ptr<Job> job, import::TarImportOptions options) {
  run_writer_job(job, "import of " + options.archive + " as host " + options.host,
                 [&](store::Db& db) -> Result<nlohmann::json> {
                   auto r = import::import_tar(db, options, job->progress, job->cancel);
                   if (!r.ok()) return r.error();
                   nlohmann::json j = {{"importer", "tar"},
                                       {"host", r->host},
                                       {"archive", r->archive},
                                       {"volser", r->volser},
                                       {"already_imported", r->already_imported},
                                       {"seconds", r->seconds}};
                   if (r->already_imported) {
                     j["already_as"] = r->already_as;
                     return j;
                   }
                   j.update({{"at", format_utc(r->at)},
                             {"kind", r->kind},
                             {"seq", r->seq},
                             {"compression", r->compression},
                             {"in_place", r->in_place},
                             {"members", r->members},
                             {"entries", r->entries},
                             {"changed", r->changed},
                             {"unchanged", r->unchanged},
                             {"deleted", r->deleted},
                             {"bytes_total", r->bytes_total},
                             {"archive_bytes", r->archive_bytes},
                             {"referenced_bytes", r->referenced_bytes},
                             {"new_bytes", r->new_bytes},
                             {"stored_bytes", r->stored_bytes},
                             {"warnings", r->warnings}});
                   return j;
                 });
}

std::shared_ptr<Job> JobManager::start_manifest_import(std::uint32_t owner,
                                                       import::ManifestImportOptions options) {
  auto job = add_job(owner, "import manifest", "", options.manifest);
  job->thread = std::thread([this, job, options = std::move(options)]() {
    run_writer_job(job, "import of manifest " + options.manifest, [&](store::Db& db) {
      return import::import_manifest(db, options, job->progress, job->cancel);
    });
  });
  return job;
}

std::shared_ptr<Job> JobManager::start_restic_import(std::uint32_t owner,
                                                     import::ResticImportOptions options) {
  options.key_dir = home_ + "/keys";
  auto job = add_job(owner, "import restic", options.host, options.repo);
  job->thread = std::thread([this, job, options = std::move(options)]() {
    run_writer_job(job, "import of restic repository " + options.repo, [&](store::Db& db) {
      return import::import_restic(db, options, job->progress, job->cancel);
    });
  });
  return job;
}

std::shared_ptr<Job> JobManager::start_scan(std::uint32_t owner, import::VolumeScanOptions options) {
  std::string what;
  for (const auto& v : options.volumes) what += (what.empty() ? "" : " ") + v;
  auto job = add_job(owner, "scan", "", what);
  job->thread = std::thread([this, job, options = std::move(options)]() {
    run_writer_job(
        job, "scan of " + std::to_string(options.volumes.size()) + " volume(s)",
        [&](store::Db& db) { return import::scan_volumes(db, options, job->progress, job->cancel); });
  });
  return job;
}

std::shared_ptr<Job> JobManager::find(std::uint64_t id) {
  std::lock_guard lk(mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Job>> JobManager::all() {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<Job>> out;
  for (auto& [id, j] : jobs_) out.push_back(j);
  return out;
}

nlohmann::json JobManager::to_json(const Job& job) {
  const auto& p = job.progress;
  nlohmann::json j = {{"id", job.id},
                      {"kind", job.kind},
                      {"host", job.host},
                      {"source", job.source},
                      {"started", format_utc(job.started)}};
  if (job.migration) {
    j["progress"] = job.migration->to_json();
  } else {
    j["progress"] = {{"entries", p.entries.load()},
                     {"files_read", p.files_read.load()},
                     {"files_unchanged", p.files_unchanged.load()},
                     {"entries_changed", p.entries_changed.load()},
                     {"bytes_read", p.bytes_read.load()},
                     {"bytes_total", p.bytes_total.load()},
                     {"new_bytes", p.new_bytes.load()},
                     {"new_chunks", p.new_chunks.load()},
                     {"skipped", p.skipped.load()}};
  }
  std::lock_guard lk(job.mu);
  j["state"] = job.state;
  if (!job.report.is_null()) j["report"] = job.report;
  if (job.error) j["error"] = error_body(*job.error)["error"];
  return j;
}

}  // namespace recall::daemon
