#include "catalogd/daemon/migration.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>
#include <set>
#include <thread>

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

// The record a cartridge's writing goes on at: its committed end (after the label for a new one).
std::uint64_t committed_records(const std::optional<store::VolumeRow>& row) {
  return row ? std::max<std::uint64_t>(1, row->bytes / tape::kRecordSize) : 1;
}

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
//
// The drive may be given back between commits (reads want it) and the cartridge mounted again
// later; before writing on, the catalog's committed end must still be where this pass left it.
// Once a write or a flush fails, nothing more is committed in this pass: the blocks since the
// last commit are given up (the next run copies them again, over them).
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
  // A drive, the cartridge mounted in it and the head at the interleaver's next record.
  Status ensure_cartridge();
  Status pick_cartridge();
  Status mount_current();
  Status write_formed();
  Status commit(bool full);
  // Waits for the catalog's writer lock; gives the drive back meanwhile if reads want it.
  Result<std::unique_lock<std::mutex>> lock_writer();
  Status abandon(Error e);

  store::Db& db_;
  TapeService& tape_;
  const MigrateOptions& o_;
  MigrationProgress& progress_;
  MigrationReport& report_;
  const std::atomic<bool>& cancel_;
  std::mutex& write_mu_;
  const int copy_;

  std::unique_ptr<tape::StagingScheduler::Lease> lease_;
  bool mounted_ = false;  // volser_ is in the lease's drive with the head at il_->next_record()
  std::string volser_;
  std::unique_ptr<tape::StreamInterleaver> il_;
  std::set<std::string> unusable_;          // cartridges found not to take this copy
  std::set<std::int64_t> sources_on_cart_;  // volumes whose chunks went into uncommitted records
  std::uint64_t since_commit_ = 0;
  bool unflushed_ = false;
  bool broken_ = false;  // a write or flush failed: commit nothing more
};

Status CopyPass::abandon(Error e) {
  broken_ = true;
  il_.reset();
  mounted_ = false;
  return e;
}

Status CopyPass::pick_cartridge() {
  for (;;) {
    auto pick = tape_.library().writable(copy_, unusable_);
    if (!pick.ok()) return pick.error();
    auto row = store::volume_by_volser(db_, *pick);
    if (!row.ok()) return row.error();
    // The catalog is the truth about what is on a cartridge: the library may lag it after a crash.
    if (*row &&
        ((*row)->kind != "tape" || ((*row)->pool != 0 && (*row)->pool != copy_) || (*row)->state == "full")) {
      (void)tape_.library().reconcile(*pick, (*row)->pool, (*row)->bytes / tape::kRecordSize,
                                      (*row)->state == "full");
      unusable_.insert(*pick);
      continue;
    }
    volser_ = *pick;
    const std::uint64_t first = committed_records(*row);
    const auto cart = tape_.library().find(volser_);
    const std::uint64_t capacity =
        (cart ? cart->capacity_bytes : tape_.backend().timing().capacity_bytes) / tape::kRecordSize;
    il_ = std::make_unique<tape::StreamInterleaver>(volser_, first, capacity);
    mounted_ = false;
    if (std::find(report_.cartridges.begin(), report_.cartridges.end(), volser_) == report_.cartridges.end())
      report_.cartridges.push_back(volser_);
    return {};
  }
}

Status CopyPass::mount_current() {
  set_state("mounting " + volser_);
  RECALL_TRY(lease_->mount(volser_, [this] { return cancelled(); }));
  // Writing goes on at the catalog's committed end, which must be where this pass left it
  // (anything after it is a torn tail): nobody else may have written here meanwhile.
  auto row = store::volume_by_volser(db_, volser_);
  if (!row.ok()) return row.error();
  // (Records are formed only with the drive at hand, so nothing formed waits to be written here.)
  const std::uint64_t committed = committed_records(*row);
  if (committed != il_->next_record())
    return make_error(ErrorKind::Conflict, "cartridge " + volser_ + " was written by someone else meanwhile");
  RECALL_TRY(lease_->backend().locate(lease_->drive(), il_->next_record()));
  mounted_ = true;
  set_state("writing copy " + std::to_string(copy_) + " to " + volser_);
  return {};
}

Status CopyPass::ensure_cartridge() {
  if (!lease_) {
    set_state("waiting for a drive");
    auto lease = tape_.scheduler().lend_drive("migration (copy " + std::to_string(copy_) + ")",
                                              [this] { return cancelled(); });
    if (!lease.ok()) return lease.error();
    lease_ = std::move(*lease);
    mounted_ = false;
  }
  for (;;) {
    if (!il_) RECALL_TRY(pick_cartridge());
    if (mounted_) return {};
    Status m = mount_current();
    if (m.ok()) return {};
    // Busy with reads (restores come first) or written meanwhile: another cartridge of the pool,
    // which is safe whenever nothing is waiting to be written here (there is then nothing
    // uncommitted on this one).
    if (m.error().kind != ErrorKind::Conflict || il_->buffered_bytes() > 0 || unflushed_) return m;
    unusable_.insert(volser_);
    il_.reset();
  }
}

Status CopyPass::write_formed() {
  auto records = il_->take_records();
  if (records.empty()) return {};
  if (Status s = lease_->backend().write(lease_->drive(), records); !s.ok()) return abandon(s.error());
  report_.records += records.size() / tape::kRecordSize;
  unflushed_ = true;
  return {};
}

Result<std::unique_lock<std::mutex>> CopyPass::lock_writer() {
  std::unique_lock lk(write_mu_, std::defer_lock);
  while (!lk.try_lock()) {
    // An import holds the catalog for its whole run: meanwhile the drive serves reads.
    if (lease_ && lease_->should_yield()) {
      lease_.reset();
      mounted_ = false;
    }
    if (cancelled())
      return make_error(ErrorKind::Cancelled, "migration cancelled while waiting for an import to end");
    set_state("waiting for an import to end");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return lk;
}

Status CopyPass::commit(bool full) {
  if (!il_ || broken_) return {};
  // The drive first (it may have been given back): the head goes to the next record to form.
  if (il_->buffered_bytes() > 0 || full || unflushed_) RECALL_TRY(ensure_cartridge());
  auto records = il_->take_all_records();
  if (full) {
    auto end = il_->take_end_record();
    records.insert(records.end(), end.begin(), end.end());
  }
  if (!records.empty()) {
    if (Status s = lease_->backend().write(lease_->drive(), records); !s.ok()) return abandon(s.error());
    report_.records += records.size() / tape::kRecordSize;
    unflushed_ = true;
  }
  if (unflushed_)
    if (Status s = lease_->backend().flush(lease_->drive()); !s.ok()) return abandon(s.error());
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
      auto writer = lock_writer();
      if (!writer.ok()) return abandon(writer.error());
      if (Status s = store::commit_tape_copies(db_, volser_, tape_.cartridge_path(volser_), copy_,
                                               il_->next_record() * tape::kRecordSize, rows, sources, full);
          !s.ok())
        return abandon(s.error());
    }
    if (Status s = tape_.library().note_written(volser_, copy_, il_->next_record(), full); !s.ok())
      report_.warnings.push_back("the library's inventory lags the catalog for " + volser_ + " (" +
                                 s.error().message + "); recalld settles it at its next start");
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
    mounted_ = false;
  }
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
  while (!active.empty() && result.ok()) {
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
        if (il_->next_record() <= 1 && il_->buffered_bytes() == 0) {
          result =
              make_error(ErrorKind::Invalid, "a block of " + std::to_string(chunk.length) +
                                                 " bytes does not fit on an empty cartridge of " + volser_);
          break;
        }
        result = commit(true);  // the cartridge is full: seal it and take another
        continue;
      }
      src.todo.pop_front();
      sources_on_cart_.insert(src.volume.id);
      since_commit_ += chunk.length;
      result = write_formed();
      if (!result.ok()) break;
    }
    if (src.todo.empty()) {
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(pick));
      refill();
    }
    const bool yield = lease_ && lease_->should_yield() && !active.empty();
    if (since_commit_ >= o_.commit_bytes || yield) {
      result = commit(false);
      if (yield && lease_) {  // reads want the drive: back it goes; the next block asks again
        lease_.reset();
        mounted_ = false;
      }
    }
  }
  // What was written is committed, on success, on cancellation, and after a failure that was not
  // itself a write (the records before it are good); after a failed write or flush, nothing is.
  Status last = commit(false);
  if (result.ok()) result = last;
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
    std::set<std::string> seen;
    for (const auto& name : o.volumes) {
      if (!seen.insert(name).second) continue;  // named twice: copied once
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
