#include "catalogd/daemon/migration.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>
#include <set>

#include "catalogd/daemon/tape_service.h"
#include "tapebridge/interleaver.h"

namespace recall::daemon {
namespace {

struct Source {
  store::VolumeRow volume;
  std::shared_ptr<tape::VolumeReader> reader;
  std::deque<store::ChunkToCopy> todo;
  std::size_t unreadable = 0;
};

// Percent of the pool in use: its volumes against `capacity`, or its filesystem's own use.
double pool_fill(const std::vector<store::VolumeRow>& disk, std::uint64_t capacity,
                 const std::string& pool_dir) {
  if (capacity > 0) {
    std::uint64_t used = 0;
    for (const auto& v : disk) used += v.bytes;
    return 100.0 * static_cast<double>(used) / static_cast<double>(capacity);
  }
  struct statvfs s {};
  if (::statvfs(pool_dir.c_str(), &s) != 0 || s.f_blocks == 0) return 0;
  return 100.0 * static_cast<double>(s.f_blocks - s.f_bfree) / static_cast<double>(s.f_blocks);
}

// One copy (1 or 2) of the chosen volumes onto cartridges of that copy pool.
class CopyPass {
 public:
  CopyPass(store::Db& db, TapeService& tape, const MigrateOptions& o, MigrationProgress& p,
           MigrationReport& rep, const std::atomic<bool>& cancel, std::mutex& write_mu, int copy)
      : db_(db),
        tape_(tape),
        o_(o),
        progress_(p),
        report_(rep),
        cancel_(cancel),
        write_mu_(write_mu),
        copy_(copy) {}

  Status run(std::vector<Source>& sources);

 private:
  bool cancelled() const { return cancel_.load(); }
  void set_state(const std::string& s) {
    std::lock_guard lk(progress_.mu);
    progress_.state = s;
    progress_.cartridge = volser_;
  }
  Status ensure_cartridge();
  Status acquire_drive();
  Status write_formed();
  Status commit(bool full);
  Status yield_drive();

  store::Db& db_;
  TapeService& tape_;
  const MigrateOptions& o_;
  MigrationProgress& progress_;
  MigrationReport& report_;
  const std::atomic<bool>& cancel_;
  std::mutex& write_mu_;
  const int copy_;

  std::unique_ptr<tape::StagingScheduler::Lease> lease_;
  std::string volser_;
  std::unique_ptr<tape::StreamInterleaver> il_;
  std::set<std::int64_t> sources_on_cart_;  // volumes whose chunks went into uncommitted records
  std::uint64_t since_commit_ = 0;
  bool unflushed_ = false;
};

Status CopyPass::acquire_drive() {
  set_state("waiting for a drive");
  auto lease = tape_.scheduler().lend_drive("migration (copy " + std::to_string(copy_) + ")",
                                            [this] { return cancelled(); });
  if (!lease.ok()) return lease.error();
  lease_ = std::move(*lease);
  return {};
}

Status CopyPass::ensure_cartridge() {
  if (!lease_) RECALL_TRY(acquire_drive());
  if (il_) return {};
  auto pick = tape_.library().writable(copy_, {});
  if (!pick.ok()) return pick.error();
  volser_ = *pick;
  set_state("mounting " + volser_);
  RECALL_TRY(lease_->mount(volser_, [this] { return cancelled(); }));
  // The catalog's committed end is where writing goes on: anything after it is a torn tail.
  std::uint64_t first = 1;
  auto row = store::volume_by_volser(db_, volser_);
  if (!row.ok()) return row.error();
  if (*row) {
    if ((*row)->kind != "tape")
      return make_error(ErrorKind::Conflict, "volume " + volser_ + " is not a cartridge");
    first = std::max<std::uint64_t>(1, (*row)->bytes / tape::kRecordSize);
  }
  RECALL_TRY(lease_->backend().locate(lease_->drive(), first));
  const auto cart = tape_.library().find(volser_);
  const std::uint64_t capacity =
      (cart ? cart->capacity_bytes : tape_.backend().timing().capacity_bytes) / tape::kRecordSize;
  il_ = std::make_unique<tape::StreamInterleaver>(volser_, first, capacity);
  if (std::find(report_.cartridges.begin(), report_.cartridges.end(), volser_) == report_.cartridges.end())
    report_.cartridges.push_back(volser_);
  set_state("writing copy " + std::to_string(copy_) + " to " + volser_);
  return {};
}

Status CopyPass::write_formed() {
  auto records = il_->take_records();
  if (records.empty()) return {};
  RECALL_TRY(lease_->backend().write(lease_->drive(), records));
  report_.records += records.size() / tape::kRecordSize;
  unflushed_ = true;
  return {};
}

Status CopyPass::commit(bool full) {
  if (!il_) return {};
  auto records = il_->take_all_records();
  if (full) {
    auto end = il_->take_end_record();
    records.insert(records.end(), end.begin(), end.end());
  }
  if (!records.empty()) {
    RECALL_TRY(lease_->backend().write(lease_->drive(), records));
    report_.records += records.size() / tape::kRecordSize;
    unflushed_ = true;
  }
  if (unflushed_) RECALL_TRY(lease_->backend().flush(lease_->drive()));
  unflushed_ = false;
  auto placed = il_->take_placed();
  if (!placed.empty() || full) {
    std::vector<store::TapeCopyRow> rows;
    std::uint64_t bytes = 0;
    for (auto& p : placed) {
      rows.push_back({static_cast<std::int64_t>(p.tag), p.ref.offset, p.ref.length, static_cast<int>(p.codec),
                      std::move(p.ref.span)});
      bytes += p.ref.length;
    }
    const std::vector<std::int64_t> sources(sources_on_cart_.begin(), sources_on_cart_.end());
    {
      std::lock_guard writer(write_mu_);
      RECALL_TRY(store::commit_tape_copies(db_, volser_, tape_.cartridge_path(volser_), copy_,
                                           il_->next_record() * tape::kRecordSize, rows, sources));
    }
    RECALL_TRY(tape_.library().note_written(volser_, copy_, il_->next_record(), full));
    sources_on_cart_.clear();
    report_.chunks += rows.size();
    report_.bytes += bytes;
    report_.commits++;
    progress_.commits++;
    progress_.chunks_done += rows.size();
    progress_.bytes_done += bytes;
  }
  since_commit_ = 0;
  if (full) {
    il_.reset();
    volser_.clear();
  }
  return {};
}

// Reads wait for the drive: it goes back to the scheduler after the commit just made, and the
// migration waits for it again, then goes on where it stopped.
Status CopyPass::yield_drive() {
  lease_.reset();
  RECALL_TRY(acquire_drive());
  set_state("mounting " + volser_ + " again");
  RECALL_TRY(lease_->mount(volser_, [this] { return cancelled(); }));
  RECALL_TRY(lease_->backend().locate(lease_->drive(), il_->next_record()));
  set_state("writing copy " + std::to_string(copy_) + " to " + volser_);
  return {};
}

Status CopyPass::run(std::vector<Source>& sources) {
  progress_.copy = copy_;
  std::deque<std::size_t> waiting;
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (!sources[i].todo.empty()) waiting.push_back(i);
  std::vector<std::size_t> active;
  auto refill = [&] {
    while (active.size() < std::max<std::size_t>(1, o_.streams) && !waiting.empty()) {
      active.push_back(waiting.front());
      waiting.pop_front();
    }
  };
  refill();
  std::size_t turn = 0;
  Status result;
  while (!active.empty()) {
    if (cancelled()) {
      result = make_error(ErrorKind::Cancelled,
                          "migration cancelled; the copies made so far are kept, run it again to go on");
      break;
    }
    const std::size_t pick = turn++ % active.size();
    Source& src = sources[active[pick]];
    const store::ChunkToCopy chunk = src.todo.front();
    auto block = src.reader->read_block(chunk.offset, chunk.length, chunk.sha);
    if (!block.ok()) {
      // It cannot be copied, so the volume is not evicted: the chunk stays where it is.
      src.unreadable++;
      report_.warnings.push_back("chunk " + to_hex(chunk.sha).substr(0, 12) + " of " + src.volume.volser +
                                 " was not copied: " + block.error().message);
      src.todo.pop_front();
    } else {
      if (Status s = ensure_cartridge(); !s.ok()) {
        result = s;
        break;
      }
      // Each source volume is a stream of its own; stream ids are the volumes' catalog ids.
      if (!il_->append(static_cast<std::uint32_t>(src.volume.id), static_cast<std::uint64_t>(chunk.chunk_id),
                       chunk.sha, block->header.codec, block->header.plain_length, block->payload)) {
        if (Status s = commit(true); !s.ok()) {  // the cartridge is full: seal it and take another
          result = s;
          break;
        }
        continue;
      }
      src.todo.pop_front();
      sources_on_cart_.insert(src.volume.id);
      since_commit_ += chunk.length;
      if (Status s = write_formed(); !s.ok()) {
        result = s;
        break;
      }
    }
    if (src.todo.empty()) {
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(pick));
      refill();
    }
    const bool yield = lease_ && lease_->should_yield() && !active.empty();
    if (since_commit_ >= o_.commit_bytes || yield) {
      if (Status s = commit(false); !s.ok()) {
        result = s;
        break;
      }
      if (yield) {
        if (Status s = yield_drive(); !s.ok()) {
          result = s;
          break;
        }
      }
    }
  }
  // Whatever was written is committed, on success, cancellation or a failure after the last
  // commit (the records before a failed write are still good).
  if (lease_ && il_) {
    Status s = commit(false);
    if (result.ok()) result = s;
  }
  lease_.reset();
  return result;
}

}  // namespace

nlohmann::json MigrationProgress::to_json() const {
  std::lock_guard lk(mu);
  return {{"volumes", volumes.load()},
          {"chunks_total", chunks_total.load()},
          {"chunks_done", chunks_done.load()},
          {"bytes_done", bytes_done.load()},
          {"commits", commits.load()},
          {"copy", copy.load()},
          {"cartridge", cartridge},
          {"state", state}};
}

nlohmann::json MigrationReport::to_json() const {
  return {{"volumes", volumes},  {"evicted", evicted}, {"cartridges", cartridges},
          {"chunks", chunks},    {"bytes", bytes},     {"records", records},
          {"commits", commits},  {"seconds", seconds}, {"model_seconds", model_seconds},
          {"warnings", warnings}};
}

Result<std::vector<store::VolumeRow>> select_for_migration(store::Db& db, const MigrateOptions& o,
                                                           const std::string& pool_dir) {
  auto all = store::list_volumes(db);
  if (!all.ok()) return all.error();
  std::vector<store::VolumeRow> disk;
  for (const auto& v : *all)
    if (v.kind == "disk" && v.state == "online") disk.push_back(v);
  std::sort(disk.begin(), disk.end(), [](const auto& a, const auto& b) {
    return a.created < b.created || (a.created == b.created && a.volser < b.volser);
  });
  std::vector<store::VolumeRow> out;
  if (!o.volumes.empty()) {
    for (const auto& name : o.volumes) {
      auto it = std::find_if(all->begin(), all->end(), [&](const auto& v) { return v.volser == name; });
      if (it == all->end()) return make_error(ErrorKind::NotFound, "no volume " + name + " in the catalog");
      if (it->kind != "disk")
        return make_error(ErrorKind::Invalid, name + " is a cartridge, not a disk volume");
      if (it->state != "online")
        return make_error(ErrorKind::Conflict, name + " is " + it->state + ", nothing to migrate");
      out.push_back(*it);
    }
    return out;
  }
  if (!o.all && !o.older_than && !o.pool_above)
    return make_error(ErrorKind::Invalid,
                      "say what to migrate: VOLSER..., --all, --older-than AGE or --pool-above PERCENT");
  for (const auto& v : disk)
    if (!o.older_than || v.created < *o.older_than) out.push_back(v);
  if (o.pool_above) {
    const double fill = pool_fill(disk, o.pool_capacity, pool_dir);
    if (fill <= *o.pool_above) return std::vector<store::VolumeRow>();
    const double target = o.pool_below.value_or(std::max(0.0, *o.pool_above - 10));
    const double per_byte = fill / std::max<double>(1, [&] {
                              std::uint64_t used = 0;
                              for (const auto& v : disk) used += v.bytes;
                              return static_cast<double>(used);
                            }());
    std::vector<store::VolumeRow> chosen;
    double projected = fill;
    for (const auto& v : out) {
      if (projected <= target) break;
      chosen.push_back(v);
      projected -= per_byte * static_cast<double>(v.bytes);
    }
    return chosen;
  }
  return out;
}

Result<MigrationReport> run_migration(const std::string& catalog_path, const std::string& pool_dir,
                                      TapeService& tape, VolumeCache& disks, const MigrateOptions& o,
                                      MigrationProgress& progress, const std::atomic<bool>& cancel,
                                      std::mutex& write_mu) {
  if (o.copies < 1 || o.copies > 2) return make_error(ErrorKind::Invalid, "--copies must be 1 or 2");
  const auto t0 = std::chrono::steady_clock::now();
  const double m0 = tape.backend().clock().now();
  auto db = store::Db::open(catalog_path, false, false);
  if (!db.ok()) return db.error();
  auto chosen = select_for_migration(**db, o, pool_dir);
  if (!chosen.ok()) return chosen.error();
  MigrationReport report;
  progress.volumes = chosen->size();
  std::vector<Source> sources;
  for (const auto& v : *chosen) {
    auto reader = disks.get(v.volser, v.path);
    if (!reader.ok())
      return make_error(reader.error().kind, "cannot read " + v.volser + ": " + reader.error().message);
    sources.push_back({v, *reader, {}, 0});
  }
  Status result;
  for (int copy = 1; copy <= o.copies && result.ok(); ++copy) {
    std::uint64_t total = 0;
    for (auto& s : sources) {
      auto todo = store::chunks_without_copy(**db, s.volume.id, copy);
      if (!todo.ok()) return todo.error();
      s.todo.assign(todo->begin(), todo->end());
      total += todo->size();
    }
    progress.chunks_total += total;
    if (total == 0) continue;
    CopyPass pass(**db, tape, o, progress, report, cancel, write_mu, copy);
    result = pass.run(sources);
  }
  // A volume is migrated when no chunk on it lacks a copy; only then may it leave the disk pool.
  for (const auto& s : sources) {
    bool complete = true;
    for (int copy = 1; copy <= o.copies && complete; ++copy) {
      auto left = store::chunks_without_copy(**db, s.volume.id, copy);
      if (!left.ok()) return left.error();
      complete = left->empty();
    }
    if (!complete) continue;
    report.volumes.push_back(s.volume.volser);
    if (o.keep_disk || !result.ok()) continue;
    {
      std::lock_guard lk(progress.mu);
      progress.state = "evicting " + s.volume.volser;
    }
    Result<std::int64_t> dropped = std::int64_t{0};
    {
      std::lock_guard writer(write_mu);
      dropped = store::evict_disk_volume(**db, s.volume.id, o.copies);
    }
    if (!dropped.ok()) {
      report.warnings.push_back(s.volume.volser + " stays on disk: " + dropped.error().message);
      continue;
    }
    disks.forget(s.volume.volser);
    if (::unlink(s.volume.path.c_str()) != 0 && errno != ENOENT)
      report.warnings.push_back("could not remove " + s.volume.path +
                                " (recalld removes it at its next start)");
    report.evicted.push_back(s.volume.volser);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.model_seconds = tape.backend().clock().now() - m0;
  {
    std::lock_guard lk(progress.mu);
    progress.state = result.ok() ? "done" : "stopped";
    progress.cartridge.clear();
  }
  if (!result.ok()) return result.error();
  return report;
}

}  // namespace recall::daemon
