// The staging scheduler's requests, drive workers and decisions (planning and status:
// scheduler_plan.cpp).
#include "tapebridge/scheduler.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "tapebridge/scheduler_internal.h"

namespace recall::tape {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(50);
constexpr std::size_t kKeptFinished = 256;

std::string short_sha(const Digest& d) { return to_hex(d).substr(0, 12); }

}  // namespace

Priority StagingScheduler::Read::best_priority() const {
  Priority p = Priority::Prefetch;
  for (const auto& [r, i] : wanters) p = std::min(p, r->priority);
  return p;
}

double StagingScheduler::Read::oldest() const {
  double t = 1e300;
  for (const auto& [r, i] : wanters) t = std::min(t, r->submitted);
  return t;
}

// ---- tickets and leases ----

StagingScheduler::Ticket& StagingScheduler::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    if (sched_ && request_) sched_->withdraw(request_);
    sched_ = std::exchange(o.sched_, nullptr);
    request_ = std::move(o.request_);
  }
  return *this;
}

StagingScheduler::Ticket::~Ticket() {
  if (sched_ && request_) sched_->withdraw(request_);
}

std::uint64_t StagingScheduler::Ticket::id() const { return request_ ? request_->id : 0; }
std::size_t StagingScheduler::Ticket::chunks() const { return request_ ? request_->slots.size() : 0; }

StagingScheduler::Lease::~Lease() {
  std::lock_guard lk(sched_.mu_);
  Drive& dr = *sched_.drives_[drive_];
  dr.activity = Drive::Activity::Idle;
  dr.lent_to.clear();
  dr.target.clear();
  sched_.changed_.notify_all();
}

bool StagingScheduler::Lease::should_yield() const {
  std::lock_guard lk(sched_.mu_);
  const Drive& dr = *sched_.drives_[drive_];
  if (sched_.stopping_) return true;
  if (!dr.loaded.empty()) {
    auto it = sched_.by_cart_.find(dr.loaded);
    if (it != sched_.by_cart_.end() && !it->second.empty()) return true;  // reads want our cartridge
  }
  for (const auto& other : sched_.drives_)
    if (other->activity == Drive::Activity::Idle) return false;  // a free drive can take the reads
  for (const auto& [volser, reads] : sched_.by_cart_)
    if (!reads.empty() && !sched_.claimed_elsewhere(volser, sched_.drives_.size())) return true;
  return false;
}

Status StagingScheduler::Lease::mount(const std::string& volser, const std::function<bool()>& cancelled) {
  std::unique_lock lk(sched_.mu_);
  Drive& dr = *sched_.drives_[drive_];
  if (dr.loaded == volser) return {};
  if (!sched_.in_library(volser))
    return make_error(ErrorKind::Conflict, "cartridge " + volser + " is not in the library");
  // Restores come first: a cartridge another drive is reading (or mounting) stays there, and the
  // writer takes another one. One that sits idle in a drive is unmounted there first.
  for (;;) {
    bool elsewhere = false;
    for (std::size_t e = 0; e < sched_.drives_.size(); ++e) {
      Drive& other = *sched_.drives_[e];
      if (e == drive_ || (other.loaded != volser && other.target != volser)) continue;
      elsewhere = true;
      auto reads = sched_.by_cart_.find(volser);
      const bool wanted = reads != sched_.by_cart_.end() && !reads->second.empty();
      const bool idle = other.activity == Drive::Activity::Idle && other.target.empty();
      const bool unmounting_it = other.activity == Drive::Activity::Unmounting && other.loaded == volser;
      if (!(idle && !wanted) && !unmounting_it) {
        for (auto& d : sched_.drives_)
          if (d->evict == volser) d->evict.clear();
        return make_error(ErrorKind::Conflict,
                          "cartridge " + volser + " is in use in drive " + std::to_string(e));
      }
      if (idle) other.evict = volser;
    }
    if (!elsewhere) break;
    sched_.changed_.notify_all();
    sched_.changed_.wait_for(lk, kPoll);
    if (sched_.stopping_ || (cancelled && cancelled())) {
      for (auto& d : sched_.drives_)
        if (d->evict == volser) d->evict.clear();
      return make_error(ErrorKind::Cancelled, "mounting " + volser + " for writing was cancelled");
    }
  }
  dr.target = volser;  // claimed: no other drive mounts it from now on
  const std::string old = dr.loaded;
  lk.unlock();
  Status st;
  if (!old.empty()) {
    st = sched_.backend_.unload(drive_);
    if (st.ok()) (void)sched_.library_.note_unmounted(old);
  }
  if (st.ok()) st = sched_.backend_.load(drive_, volser);
  if (st.ok()) (void)sched_.library_.note_mounted(volser, drive_);
  lk.lock();
  dr.loaded = sched_.backend_.loaded(drive_).value_or("");
  if (st.ok()) dr.mounted_at = sched_.now();
  sched_.changed_.notify_all();
  return st;
}

// ---- lifecycle ----

StagingScheduler::StagingScheduler(TapeBackend& backend, Library& library, ChunkCache& cache,
                                   SchedulerConfig config)
    : backend_(backend), library_(library), cache_(cache), config_(config) {
  for (std::size_t d = 0; d < backend_.drive_count(); ++d) {
    drives_.push_back(std::make_unique<Drive>());
    drives_.back()->loaded = backend_.loaded(d).value_or("");
  }
  for (const auto& c : library_.cartridges())
    if (!c.in_library()) offsite_.insert(c.volser);
}

StagingScheduler::~StagingScheduler() { stop(); }

void StagingScheduler::start() {
  std::lock_guard lk(mu_);
  if (!workers_.empty()) return;
  for (std::size_t d = 0; d < drives_.size(); ++d) workers_.emplace_back([this, d] { run_drive(d); });
}

void StagingScheduler::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    stopping_ = true;
    changed_.notify_all();
  }
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  std::lock_guard lk(mu_);
  for (auto& [id, r] : requests_)
    for (std::size_t i = 0; i < r->slots.size(); ++i)
      if (r->slots[i].state == Slot::State::Pending) {
        r->slots[i].state = Slot::State::Failed;
        r->slots[i].error = "recalld is stopping";
        r->error_kind = ErrorKind::Cancelled;
        if (r->first_error.empty()) r->first_error = "recalld is stopping";
        r->open--;
      }
  requests_.clear();
  reads_.clear();
  by_cart_.clear();
  operator_waits_.clear();
  changed_.notify_all();
}

void StagingScheduler::run_drive(std::size_t d) {
  std::unique_lock lk(mu_);
  while (!stopping_) step(d, lk);
}

// ---- submitting and waiting ----

Result<StagingScheduler::Ticket> StagingScheduler::submit(StageSpec spec) {
  std::lock_guard lk(mu_);
  if (stopping_) return make_error(ErrorKind::Cancelled, "recalld is stopping");
  std::size_t outstanding = 0;
  for (const auto& [id, r] : requests_) outstanding += r->who.uid == spec.who.uid;
  if (outstanding >= config_.max_requests_per_user) {
    stats_.refused++;
    return make_error(ErrorKind::Conflict,
                      spec.who.user + " has " + std::to_string(outstanding) +
                          " requests waiting for tape already; wait for them (recall queue) or cancel some");
  }
  auto r = std::make_shared<Request>();
  r->id = next_id_++;
  r->who = spec.who;
  r->priority = spec.priority;
  r->what = spec.what;
  r->tag = spec.tag;
  r->hold_pins = spec.hold_pins;
  r->submitted = now();
  r->submitted_real = std::chrono::steady_clock::now();
  r->slots.resize(spec.chunks.size());
  stats_.submitted++;
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < spec.chunks.size(); ++i) {
    Slot& slot = r->slots[i];
    slot.want = std::move(spec.chunks[i]);
    r->bytes += slot.want.size;
    if (auto pin = cache_.pin(slot.want.sha)) {
      slot.state = Slot::State::Ready;
      if (r->hold_pins) slot.pin = std::move(*pin);
      r->done++;
      r->bytes_done += slot.want.size;
      stats_.chunks_from_cache++;
    } else {
      pending.push_back(i);
    }
  }
  r->open = pending.size();
  if (pending.empty()) {
    finish_slot(*r, r->slots.size());  // nothing to wait for: on record as finished
    return Ticket(this, r);
  }
  requests_[r->id] = r;
  for (std::size_t i : pending) {
    const WantedChunk& want = r->slots[i].want;
    if (auto it = reads_.find(want.sha); it != reads_.end()) {
      it->second->wanters.push_back({r, i});
      continue;
    }
    auto read = std::make_shared<Read>();
    read->sha = want.sha;
    read->size = want.size;
    read->copies = want.copies;
    read->failed.assign(read->copies.size(), false);
    read->wanters.push_back({r, i});
    read->seq = fcfs_seq_++;
    read->copy = read->copies.size();  // fail_over() picks the first usable copy
    reads_[read->sha] = read;
    if (read->copies.empty()) read->errors.push_back("the catalog lists no copy on tape");
    // A location the catalog got wrong is a bad copy, not arithmetic on nonsense.
    for (std::size_t k = 0; k < read->copies.size(); ++k)
      if (Status ok = check_block_ref(read->copies[k].ref); !ok.ok()) {
        read->failed[k] = true;
        read->errors.push_back("copy " + std::to_string(read->copies[k].copy) + " on " +
                               read->copies[k].volser + ": " + ok.error().message);
      }
    fail_over(read, "");
  }
  changed_.notify_all();
  return Ticket(this, r);
}

Result<ChunkCache::Pin> StagingScheduler::take(Ticket& ticket, std::size_t index,
                                               const std::function<bool()>& cancelled) {
  if (!ticket.request_ || index >= ticket.request_->slots.size())
    return make_error(ErrorKind::Internal, "no chunk " + std::to_string(index) + " in this staging request");
  Request& r = *ticket.request_;
  std::unique_lock lk(mu_);
  for (;;) {
    Slot& slot = r.slots[index];
    switch (slot.state) {
      case Slot::State::Ready: {
        slot.state = Slot::State::Taken;
        if (slot.pin.valid()) return std::move(slot.pin);
        if (auto pin = cache_.pin(slot.want.sha)) return std::move(*pin);
        return make_error(ErrorKind::Internal,
                          "chunk " + short_sha(slot.want.sha) + " left the staging cache");
      }
      case Slot::State::Failed:
        return make_error(r.error_kind, slot.error);
      case Slot::State::Taken:
        return make_error(ErrorKind::Internal,
                          "chunk " + std::to_string(index) + " of a staging request taken twice");
      case Slot::State::Pending:
        break;
    }
    changed_.wait_for(lk, kPoll);
    if (slot.state != Slot::State::Pending) continue;
    if (auto gone = given_up(lk, r.id, cancelled)) return *gone;
  }
}

// After a wait: the error that ends it if recalld stops or the caller gave up (asked without
// the lock: cancelled() may poll a socket).
std::optional<Error> StagingScheduler::given_up(std::unique_lock<std::mutex>& lk, std::uint64_t id,
                                                const std::function<bool()>& cancelled) {
  if (stopping_) return make_error(ErrorKind::Cancelled, "recalld is stopping");
  if (!cancelled) return std::nullopt;
  lk.unlock();
  const bool gone = cancelled();
  lk.lock();
  if (!gone) return std::nullopt;
  return make_error(ErrorKind::Cancelled, "staging request " + std::to_string(id) + " was cancelled");
}

Status StagingScheduler::wait_all(Ticket& ticket, const std::function<bool()>& cancelled) {
  if (!ticket.request_) return make_error(ErrorKind::Internal, "an empty staging ticket");
  Request& r = *ticket.request_;
  std::unique_lock lk(mu_);
  while (r.open > 0) {
    changed_.wait_for(lk, kPoll);
    if (r.open == 0) break;
    if (auto gone = given_up(lk, r.id, cancelled)) return *gone;
  }
  if (!r.first_error.empty()) return make_error(r.error_kind, r.first_error);
  return {};
}

void StagingScheduler::withdraw(const std::shared_ptr<Request>& r) {
  std::lock_guard lk(mu_);
  if (r->withdrawn) return;
  r->withdrawn = true;
  if (r->open > 0) {
    for (std::size_t i = 0; i < r->slots.size(); ++i) {
      if (r->slots[i].state != Slot::State::Pending) continue;
      auto it = reads_.find(r->slots[i].want.sha);
      if (it == reads_.end()) continue;
      auto read = it->second;
      std::erase_if(read->wanters, [&](const auto& w) { return w.first == r && w.second == i; });
      if (!read->wanters.empty() || read->in_progress) continue;
      // Nobody else wants it: it leaves the queues.
      reads_.erase(it);
      if (read->copy < read->copies.size()) {
        if (auto q = by_cart_.find(read->current().volser); q != by_cart_.end()) {
          auto [from, to] = q->second.equal_range(read->first());
          for (auto e = from; e != to; ++e)
            if (e->second == read) {
              q->second.erase(e);
              break;
            }
        }
        if (auto w = operator_waits_.find(read->current().volser); w != operator_waits_.end()) {
          std::erase(w->second, read);
          if (w->second.empty()) {
            (void)library_.withdraw_request(w->first, "check in");
            operator_waits_.erase(w);
          }
        }
      }
    }
    stats_.cancelled++;
    r->open = 0;
    requests_.erase(r->id);
    remember_finished(*r, "cancelled");
  }
  for (auto& slot : r->slots) slot.pin.release();  // chunks nobody will take now
  changed_.notify_all();
}

// ---- queues ----

bool StagingScheduler::in_library(const std::string& volser) const { return offsite_.count(volser) == 0; }

bool StagingScheduler::claimed_elsewhere(const std::string& volser, std::size_t d) const {
  for (std::size_t e = 0; e < drives_.size(); ++e)
    if (e != d && (drives_[e]->loaded == volser || drives_[e]->target == volser)) return true;
  return false;
}

void StagingScheduler::enqueue(const std::shared_ptr<Read>& read) {
  by_cart_[read->current().volser].emplace(read->first(), read);
  changed_.notify_all();
}

// Picks the next copy to try after the current one failed (or, with copy == copies.size(), the
// first): one in the library if any is left, else one off-site to wait for, else failure.
void StagingScheduler::fail_over(const std::shared_ptr<Read>& read, const std::string& reason) {
  if (read->copy < read->copies.size()) {
    const TapeCopy& bad = read->current();
    read->failed[read->copy] = true;
    read->errors.push_back("copy " + std::to_string(bad.copy) + " on " + bad.volser + ": " + reason);
    stats_.read_errors++;
    (void)library_.note_read_error(bad.volser);
    std::fprintf(stderr, "recalld: staging chunk %s from %s failed: %s\n", short_sha(read->sha).c_str(),
                 bad.volser.c_str(), reason.c_str());
  }
  std::optional<std::size_t> offsite;
  for (std::size_t i = 0; i < read->copies.size(); ++i) {
    if (read->failed[i]) continue;
    if (in_library(read->copies[i].volser)) {
      if (!read->errors.empty()) stats_.fallbacks++;
      read->copy = i;
      enqueue(read);
      return;
    }
    if (!offsite) offsite = i;
  }
  if (offsite) {
    read->copy = *offsite;
    const std::string& volser = read->current().volser;
    operator_waits_[volser].push_back(read);
    stats_.operator_waits++;
    (void)library_.raise(
        volser, "check in",
        "reads wait for it: no other copy of chunk " + short_sha(read->sha) + " is in the library");
    return;
  }
  std::string message = "chunk " + short_sha(read->sha) + " could not be staged: ";
  for (std::size_t i = 0; i < read->errors.size(); ++i) message += (i ? "; " : "") + read->errors[i];
  reads_.erase(read->sha);
  for (const auto& [r, i] : read->wanters) {
    Slot& slot = r->slots[i];
    if (slot.state != Slot::State::Pending) continue;
    slot.state = Slot::State::Failed;
    slot.error = message;
    if (r->first_error.empty()) r->first_error = message;
    finish_slot(*r, i);
  }
  read->wanters.clear();
  changed_.notify_all();
}

void StagingScheduler::deliver(const std::shared_ptr<Read>& read, ChunkCache::Pin& landed) {
  reads_.erase(read->sha);
  stats_.chunks_staged++;
  stats_.bytes_staged += read->current().ref.length;
  for (const auto& [r, i] : read->wanters) {
    Slot& slot = r->slots[i];
    if (slot.state != Slot::State::Pending) continue;
    slot.state = Slot::State::Ready;
    if (r->hold_pins) slot.pin = cache_.share(landed);
    r->done++;
    r->bytes_done += slot.want.size;
    finish_slot(*r, i);
  }
  read->wanters.clear();
  changed_.notify_all();
}

// A slot left Pending (index == slots.size(): the request had nothing pending at all).
void StagingScheduler::finish_slot(Request& r, std::size_t index) {
  if (index < r.slots.size()) {
    if (r.open == 0) return;
    if (--r.open > 0) return;
  }
  if (r.first_error.empty()) {
    stats_.completed++;
  } else {
    stats_.failed++;
  }
  auto it = requests_.find(r.id);
  std::shared_ptr<Request> keep = it != requests_.end() ? it->second : nullptr;  // `r` may live only there
  if (it != requests_.end()) requests_.erase(it);
  remember_finished(r, r.first_error.empty() ? "done" : "failed");
}

// With mu_ held, once `r` left requests_: its last status is kept for status(), and a user with
// nothing left waiting starts afresh in the fairness count.
void StagingScheduler::remember_finished(const Request& r, const char* state) {
  RequestStatus s = status_of(r, nullptr);
  s.state = state;
  finished_.push_back(std::move(s));
  if (finished_.size() > kKeptFinished) finished_.pop_front();
  if (std::none_of(requests_.begin(), requests_.end(),
                   [&](const auto& e) { return e.second->who.uid == r.who.uid; }))
    service_.erase(r.who.uid);
}

void StagingScheduler::library_changed() {
  std::lock_guard lk(mu_);
  offsite_.clear();
  for (const auto& c : library_.cartridges())
    if (!c.in_library()) offsite_.insert(c.volser);
  // Reads waiting for an operator: any of their copies may be back, not just the one they wait on.
  std::vector<std::shared_ptr<Read>> waiting;
  for (auto& [volser, reads] : operator_waits_)
    for (auto& read : reads) waiting.push_back(read);
  std::set<std::string> waited_on;
  for (const auto& [volser, reads] : operator_waits_) waited_on.insert(volser);
  operator_waits_.clear();
  for (auto& read : waiting) {
    read->copy = read->copies.size();
    fail_over(read, "");  // a copy in the library if one is, else the wait again
  }
  // Requests nobody waits for any more end.
  for (const auto& volser : waited_on)
    if (!operator_waits_.count(volser)) (void)library_.withdraw_request(volser, "check in");
  // Reads queued on a cartridge that left: another copy, or an operator.
  for (auto it = by_cart_.begin(); it != by_cart_.end();) {
    if (in_library(it->first)) {
      ++it;
      continue;
    }
    auto reads = std::move(it->second);
    it = by_cart_.erase(it);
    for (auto& [rec, read] : reads) {
      read->copy = read->copies.size();
      fail_over(read, "");
    }
  }
  changed_.notify_all();
}

Status StagingScheduler::release_cartridge(const std::string& volser,
                                           const std::function<bool()>& cancelled) {
  std::unique_lock lk(mu_);
  // From now on no drive mounts it (it is about to leave); library_changed() settles it after.
  offsite_.insert(volser);
  for (;;) {
    bool held = false;
    for (std::size_t d = 0; d < drives_.size(); ++d) {
      Drive& dr = *drives_[d];
      if (dr.loaded != volser && dr.target != volser) continue;
      held = true;
      // It is being unmounted for us: wait for that.
      if (dr.activity == Drive::Activity::Unmounting && dr.loaded == volser && dr.target != volser) continue;
      if (dr.activity != Drive::Activity::Idle || dr.target == volser) {
        if (library_.find(volser).value_or(Cartridge{}).in_library()) offsite_.erase(volser);
        return make_error(ErrorKind::Conflict, "cartridge " + volser + " is in use in drive " +
                                                   std::to_string(d) + " (" +
                                                   activity_name(static_cast<int>(dr.activity)) +
                                                   "); try again when it is done (recall queue)");
      }
      dr.evict = volser;
    }
    if (!held) return {};
    changed_.notify_all();
    changed_.wait_for(lk, kPoll);
    if (stopping_ || (cancelled && cancelled()))
      return make_error(ErrorKind::Cancelled, "releasing cartridge " + volser + " was cancelled");
  }
}

Result<std::unique_ptr<StagingScheduler::Lease>> StagingScheduler::lend_drive(
    const std::string& who, const std::function<bool()>& cancelled) {
  LeaseWait w{who, std::nullopt};
  std::unique_lock lk(mu_);
  lease_queue_.push_back(&w);
  changed_.notify_all();
  while (!w.drive) {
    changed_.wait_for(lk, kPoll);
    if (w.drive) break;
    bool gone = stopping_;
    if (!gone && cancelled) {
      lk.unlock();
      gone = cancelled();
      lk.lock();
    }
    if (gone && !w.drive) {
      std::erase(lease_queue_, &w);
      return make_error(ErrorKind::Cancelled, "waiting for a drive to write on was cancelled");
    }
  }
  stats_.leases++;
  return std::unique_ptr<Lease>(new Lease(*this, *w.drive));
}

// ---- the drive workers ----

void StagingScheduler::step(std::size_t d, std::unique_lock<std::mutex>& lk) {
  Drive& dr = *drives_[d];
  if (dr.activity == Drive::Activity::Lent || dr.faulted) {
    changed_.wait(lk);
    return;
  }
  if (!dr.evict.empty()) {
    const bool mine = dr.evict == dr.loaded;
    dr.evict.clear();
    if (mine) do_unmount(d, lk);
    return;
  }
  if (config_.policy == SchedulerConfig::Policy::Fcfs) {
    std::string volser;
    auto batch = next_fcfs(d, volser);
    if (!batch.empty()) {
      if (dr.loaded != volser) {
        dr.target = volser;
        if (!dr.loaded.empty()) do_unmount(d, lk);
        if (dr.faulted) {
          for (auto& r : batch) r->in_progress = false, enqueue(r);
          return;
        }
        do_mount(d, volser, lk);
      }
      if (dr.loaded == volser) {
        do_reads(d, volser, std::move(batch), lk);
      } else {
        for (auto& r : batch) {
          r->in_progress = false;
          if (r->wanters.empty()) {
            reads_.erase(r->sha);  // withdrawn meanwhile: nobody to tell
          } else {
            fail_over(r, "cartridge could not be mounted");
          }
        }
      }
      return;
    }
  } else {
    const bool here = !dr.loaded.empty() && by_cart_.count(dr.loaded) && !by_cart_[dr.loaded].empty();
    const std::string candidate = best_candidate(d);
    if (here && (candidate.empty() || !should_switch(d, candidate))) {
      auto batch = next_batch(d);
      if (!batch.empty()) return do_reads(d, dr.loaded, std::move(batch), lk);
    }
    // An empty drive that is free takes the candidate: no unmount first.
    bool empty_one_free = false;
    for (std::size_t e = 0; e < drives_.size(); ++e)
      empty_one_free |= e != d && drives_[e]->activity == Drive::Activity::Idle &&
                        drives_[e]->loaded.empty() && drives_[e]->target.empty();
    if (!candidate.empty()) {
      if (empty_one_free && !dr.loaded.empty()) {
        changed_.notify_all();  // wake it; this drive waits below
      } else {
        dr.target = candidate;
        if (!dr.loaded.empty()) do_unmount(d, lk);
        if (dr.faulted) return;
        do_mount(d, candidate, lk);
        return;
      }
    }
  }
  if (!lease_queue_.empty()) {
    LeaseWait* w = lease_queue_.front();
    lease_queue_.pop_front();
    w->drive = d;
    dr.activity = Drive::Activity::Lent;
    dr.lent_to = w->who;
    changed_.notify_all();
    return;
  }
  changed_.wait(lk);
}

// The cartridges waiting for a drive, best first (policy Recall; see the header), as drive `d`
// sees them (d == drives: as nobody in particular sees them, for the planner).
std::vector<std::string> StagingScheduler::ranked_candidates(std::size_t d) const {
  const std::size_t cap = config_.max_drives_per_user ? config_.max_drives_per_user
                                                      : std::max<std::size_t>(1, drives_.size() - 1);
  auto users_drives = [&](std::uint32_t uid) {
    std::size_t n = 0;
    for (std::size_t e = 0; e < drives_.size(); ++e)
      n += e != d && drives_[e]->serving.count(uid) && drives_[e]->activity != Drive::Activity::Idle;
    return n;
  };
  using Key = std::tuple<int, bool, double, double>;  // priority, capped, service, oldest
  std::vector<std::pair<Key, std::string>> ranked;
  for (const auto& [volser, reads] : by_cart_) {
    if (reads.empty() || claimed_elsewhere(volser, d) || !in_library(volser)) continue;
    if (d < drives_.size() && volser == drives_[d]->loaded) continue;
    int prio = static_cast<int>(Priority::Prefetch);
    double service = 1e300, oldest = 1e300;
    bool capped = true;
    for (const auto& [rec, read] : reads) {
      prio = std::min(prio, static_cast<int>(read->best_priority()));
      oldest = std::min(oldest, read->oldest());
      for (const auto& [r, i] : read->wanters) {
        auto sv = service_.find(r->who.uid);
        service = std::min(service, sv == service_.end() ? 0.0 : sv->second);
        if (users_drives(r->who.uid) < cap) capped = false;
      }
    }
    ranked.push_back({Key{prio, capped, service, oldest}, volser});
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (auto& [key, volser] : ranked) out.push_back(std::move(volser));
  return out;
}

std::string StagingScheduler::best_candidate(std::size_t d) const {
  auto ranked = ranked_candidates(d);
  return ranked.empty() ? std::string() : ranked.front();
}

bool StagingScheduler::should_switch(std::size_t d, const std::string& candidate) const {
  const Drive& dr = *drives_[d];
  for (std::size_t e = 0; e < drives_.size(); ++e)
    if (e != d && drives_[e]->activity == Drive::Activity::Idle) return false;  // it will take the candidate
  const double mounted_for = now() - dr.mounted_at;
  if (mounted_for >= config_.max_dwell_s) return true;
  auto best_of = [&](const std::string& volser) {
    Priority p = Priority::Prefetch;
    if (auto it = by_cart_.find(volser); it != by_cart_.end())
      for (const auto& [rec, read] : it->second) p = std::min(p, read->best_priority());
    return p;
  };
  return best_of(candidate) < best_of(dr.loaded) && mounted_for >= config_.min_dwell_s;
}

// The next reads on the mounted cartridge: C-SCAN from the head, nearby blocks in one go.
std::vector<std::shared_ptr<StagingScheduler::Read>> StagingScheduler::next_batch(std::size_t d) {
  Drive& dr = *drives_[d];
  auto& reads = by_cart_[dr.loaded];
  std::vector<std::shared_ptr<Read>> batch;
  if (reads.empty()) return batch;
  auto it = reads.lower_bound(backend_.position(d));
  if (it == reads.end()) it = reads.begin();  // the pass is over: the next starts from the front
  // Blocks within max_batch_records of the first are read in one go: reading through the records
  // between them costs less than a single locate.
  const std::uint64_t start = it->first;
  while (it != reads.end() && it->second->last() - start + 1 <= config_.max_batch_records) {
    it->second->in_progress = true;
    batch.push_back(it->second);
    it = reads.erase(it);
  }
  if (batch.empty()) {  // one block longer than a batch (not made by our writer, but possible)
    it = reads.lower_bound(start);
    it->second->in_progress = true;
    batch.push_back(it->second);
    reads.erase(it);
  }
  dr.serving.clear();
  for (const auto& [rec, read] : reads)
    for (const auto& [r, i] : read->wanters) dr.serving.insert(r->who.uid);
  for (const auto& read : batch)
    for (const auto& [r, i] : read->wanters) dr.serving.insert(r->who.uid);
  return batch;
}

// Policy Fcfs: the oldest read whose cartridge no other drive holds, alone.
std::vector<std::shared_ptr<StagingScheduler::Read>> StagingScheduler::next_fcfs(std::size_t d,
                                                                                 std::string& volser) {
  std::multimap<std::uint64_t, std::shared_ptr<Read>>* from = nullptr;
  std::multimap<std::uint64_t, std::shared_ptr<Read>>::iterator pick;
  for (auto& [v, reads] : by_cart_) {
    if (claimed_elsewhere(v, d) || !in_library(v)) continue;
    for (auto it = reads.begin(); it != reads.end(); ++it)
      if (!from || it->second->seq < pick->second->seq) from = &reads, pick = it, volser = v;
  }
  std::vector<std::shared_ptr<Read>> batch;
  if (!from) return batch;
  pick->second->in_progress = true;
  batch.push_back(pick->second);
  from->erase(pick);
  drives_[d]->serving.clear();
  for (const auto& [r, i] : batch.front()->wanters) drives_[d]->serving.insert(r->who.uid);
  return batch;
}

void StagingScheduler::do_mount(std::size_t d, const std::string& volser, std::unique_lock<std::mutex>& lk) {
  Drive& dr = *drives_[d];
  dr.activity = Drive::Activity::Mounting;
  dr.target = volser;
  dr.op_started = now();
  dr.op_estimate = backend_.timing().mount();
  std::set<std::uint32_t> users;
  if (auto it = by_cart_.find(volser); it != by_cart_.end())
    for (const auto& [rec, read] : it->second)
      for (const auto& [r, i] : read->wanters) users.insert(r->who.uid);
  dr.serving = users;
  changed_.notify_all();  // drives that deferred to this one look again
  lk.unlock();
  Status st = backend_.load(d, volser);
  if (st.ok()) (void)library_.note_mounted(volser, d);
  lk.lock();
  const double spent = now() - dr.op_started;
  for (auto uid : users) service_[uid] += spent / static_cast<double>(users.size());
  dr.activity = Drive::Activity::Idle;
  dr.target.clear();
  if (st.ok()) {
    dr.loaded = volser;
    dr.mounted_at = now();
  } else {
    // The cartridge cannot be read at all: every read waiting on it tries its other copies.
    std::fprintf(stderr, "recalld: drive %zu cannot mount %s: %s\n", d, volser.c_str(),
                 st.error().message.c_str());
    if (auto it = by_cart_.find(volser); it != by_cart_.end()) {
      auto reads = std::move(it->second);
      by_cart_.erase(it);
      for (auto& [rec, read] : reads) fail_over(read, "cannot mount: " + st.error().message);
    }
  }
  changed_.notify_all();
}

void StagingScheduler::do_unmount(std::size_t d, std::unique_lock<std::mutex>& lk) {
  Drive& dr = *drives_[d];
  const std::string volser = dr.loaded;
  dr.activity = Drive::Activity::Unmounting;
  dr.op_started = now();
  dr.op_estimate = backend_.timing().unmount(backend_.position(d));
  lk.unlock();
  Status st = backend_.unload(d);
  if (st.ok()) (void)library_.note_unmounted(volser);
  lk.lock();
  dr.activity = Drive::Activity::Idle;
  dr.loaded = backend_.loaded(d).value_or("");
  if (!st.ok()) {
    // Whatever is wrong is the drive's, not the next cartridge's: leave the drive alone.
    dr.faulted = true;
    dr.target.clear();
    std::fprintf(stderr,
                 "recalld: drive %zu cannot unmount %s: %s; the drive is left alone until recalld restarts\n",
                 d, volser.c_str(), st.error().message.c_str());
  }
  changed_.notify_all();
}

void StagingScheduler::do_reads(std::size_t d, const std::string& volser,
                                std::vector<std::shared_ptr<Read>> batch, std::unique_lock<std::mutex>& lk) {
  Drive& dr = *drives_[d];
  std::uint64_t first = UINT64_MAX, last = 0;
  for (const auto& r : batch) first = std::min(first, r->first()), last = std::max(last, r->last());
  const std::uint64_t count = last - first + 1;
  std::set<std::uint32_t> users;
  for (const auto& read : batch)
    for (const auto& [r, i] : read->wanters) users.insert(r->who.uid);
  dr.batch = batch;
  const double started = now();
  Result<std::vector<std::uint8_t>> data = std::vector<std::uint8_t>();
  const std::uint64_t head = backend_.position(d);
  if (head != first) {
    dr.activity = Drive::Activity::Positioning;
    dr.op_started = now();
    dr.op_estimate = backend_.timing().locate(head, first);
    lk.unlock();
    Status st = backend_.locate(d, first);
    lk.lock();
    if (!st.ok()) data = st.error();
  }
  if (data.ok()) {
    dr.activity = Drive::Activity::Reading;
    dr.op_started = now();
    dr.op_estimate = backend_.timing().read(count);
    lk.unlock();
    data = backend_.read(d, count);
  } else {
    lk.unlock();
  }
  // Verify outside the lock: every record, then every block, then land it in the cache.
  std::vector<std::string> record_error(count);
  std::vector<std::optional<Result<ChunkCache::Pin>>> landed(batch.size());
  std::vector<std::string> why(batch.size());
  if (data.ok() && data->size() != count * kRecordSize)
    data = make_error(ErrorKind::Corrupt, record_context(volser, first) + ": the drive returned " +
                                              std::to_string(data->size()) + " bytes for " +
                                              std::to_string(count) + " records");
  if (data.ok()) {
    // A record that fails its CRC may still hold good blocks: each block's own CRC and SHA-256
    // decide. Only a record that is not one of ours at all (blank, foreign) loses its blocks.
    std::vector<bool> unusable(count, false);
    for (std::uint64_t i = 0; i < count; ++i) {
      auto h = check_record({data->data() + i * kRecordSize, kRecordSize}, volser, first + i);
      if (h.ok()) continue;
      record_error[i] = record_context(volser, first + i) + ": " + h.error().message;
      const std::string& m = h.error().message;
      unusable[i] = m.find("CRC32") == std::string::npos;
    }
    for (std::size_t b = 0; b < batch.size(); ++b) {
      const TapeBlockRef& ref = batch[b]->current().ref;
      std::string record_trouble;
      for (std::uint64_t rec : ref.records()) {
        if (!record_error[rec - first].empty()) record_trouble = record_error[rec - first];
        if (unusable[rec - first]) why[b] = record_error[rec - first];
      }
      if (!why[b].empty()) continue;
      auto block = gather_block(ref, [&](std::uint64_t rec) {
        return std::span<const std::uint8_t>(data->data() + (rec - first) * kRecordSize, kRecordSize);
      });
      if (block.ok()) {
        auto plain = decode_chunk_block(*block, volser, batch[b]->sha);
        if (plain.ok()) {
          landed[b] = cache_.put(batch[b]->sha, *block);
          if (!landed[b]->ok()) why[b] = landed[b]->error().message;
          continue;
        }
        block = plain.error();
      }
      why[b] = record_trouble.empty() ? record_context(volser, ref.first_record()) + ": block at byte " +
                                            std::to_string(ref.offset) + ": " + block.error().message
                                      : record_trouble + "; its block: " + block.error().message;
    }
  } else {
    for (auto& w : why) w = data.error().message;
  }
  lk.lock();
  const double spent = now() - started;
  for (auto uid : users) service_[uid] += spent / static_cast<double>(std::max<std::size_t>(1, users.size()));
  for (std::size_t b = 0; b < batch.size(); ++b) {
    auto& read = batch[b];
    read->in_progress = false;
    if (landed[b] && landed[b]->ok()) {
      deliver(read, **landed[b]);
    } else if (read->wanters.empty()) {
      reads_.erase(read->sha);  // withdrawn while being read, and failed: nobody to tell
    } else {
      fail_over(read, why[b]);
    }
  }
  dr.batch.clear();
  dr.activity = Drive::Activity::Idle;
  changed_.notify_all();
}

}  // namespace recall::tape
