// The staging scheduler's view ahead: when each waiting read should be done (ETAs), each
// request's place and state in words, the drives' state, and what a set of chunks would cost.
#include <algorithm>

#include "tapebridge/scheduler.h"
#include "tapebridge/scheduler_internal.h"

namespace recall::tape {

const char* activity_name(int activity) {
  static const char* const names[] = {"idle", "mounting", "unmounting", "positioning", "reading", "writing"};
  return activity >= 0 && activity < 6 ? names[activity] : "unknown";
}

double pass_time(const TimingModel& t, std::uint64_t from,
                 const std::vector<std::pair<std::uint64_t, std::uint64_t>>& blocks,
                 std::vector<double>* done_at, std::uint64_t* end_position) {
  double time = 0;
  std::uint64_t pos = from, read_from = from;  // records [read_from, pos) were just read
  for (const auto& [first, last] : blocks) {
    if (first >= read_from && last < pos) {
      // Already read with the block before (they share records).
    } else if (first < pos && last >= pos && first >= read_from) {
      time += t.read(last - pos + 1);  // it goes on past what was read
      pos = last + 1;
    } else {
      time += t.locate(pos, first) + t.read(last - first + 1);
      read_from = first;
      pos = last + 1;
    }
    if (done_at) done_at->push_back(time);
  }
  if (end_position) *end_position = pos;
  return time;
}

// ---- the planner ----

StagingScheduler::Planner::Planner(const StagingScheduler& s) : now_(s.now()), timing_(&s.backend_.timing()) {
  for (std::size_t e = 0; e < s.drives_.size(); ++e) {
    const Drive& dr = *s.drives_[e];
    DrivePlan p;
    p.loaded = dr.loaded;
    p.head = s.backend_.position(e);
    p.free_at = now_;
    switch (dr.activity) {
      case Drive::Activity::Idle:
        break;
      case Drive::Activity::Lent:
        p.free_at = now_ + timing_->flush();
        break;  // the writer yields at its next commit
      default:
        p.free_at = std::max(now_, dr.op_started + dr.op_estimate);
    }
    if (dr.activity == Drive::Activity::Mounting) p.loaded = dr.target, p.head = 0;
    if (dr.activity == Drive::Activity::Unmounting) {
      p.loaded.clear();
      p.head = 0;
      if (!dr.target.empty()) p.next = dr.target;  // it is swapping cartridges
    }
    if (dr.activity == Drive::Activity::Positioning || dr.activity == Drive::Activity::Reading) {
      // The batch under way: its locate (if still to come) and read, as estimated when it began.
      double t = p.free_at;
      if (dr.activity == Drive::Activity::Positioning && !dr.batch.empty()) {
        std::uint64_t first = UINT64_MAX, last = 0;
        for (const auto& r : dr.batch) first = std::min(first, r->first()), last = std::max(last, r->last());
        t += timing_->read(last - first + 1);
      }
      for (const auto& r : dr.batch) {
        done_[r.get()] = t;
        p.head = std::max(p.head, r->last() + 1);
      }
      p.free_at = t;
    }
    drives_.push_back(std::move(p));
  }
  plan_claimed(s);
  if (s.config_.policy == SchedulerConfig::Policy::Fcfs) {
    plan_waiting_fcfs(s);
  } else {
    plan_waiting_recall(s);
  }
  for (const auto& [volser, waits] : s.operator_waits_)
    for (const auto& r : waits) done_[r.get()] = -1;
}

// Reads on cartridges a drive holds: the rest of its pass from the head, then the wrap-around.
void StagingScheduler::Planner::plan_claimed(const StagingScheduler& s) {
  if (s.config_.policy == SchedulerConfig::Policy::Fcfs) return;  // in arrival order instead
  for (auto& p : drives_) {
    if (!p.next.empty()) {
      p.free_at += timing_->mount();
      p.loaded = p.next;
      p.head = 0;
    }
    auto it = s.by_cart_.find(p.loaded);
    if (p.loaded.empty() || it == s.by_cart_.end() || it->second.empty()) continue;
    std::vector<const Read*> order;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks;
    for (auto r = it->second.lower_bound(p.head); r != it->second.end(); ++r)
      order.push_back(r->second.get());
    for (auto r = it->second.begin(); r != it->second.end() && r->first < p.head; ++r)
      order.push_back(r->second.get());
    for (const Read* r : order) blocks.push_back({r->first(), r->last()});
    std::vector<double> at;
    const double t = pass_time(*timing_, p.head, blocks, &at, &p.head);
    for (std::size_t i = 0; i < order.size(); ++i) done_[order[i]] = p.free_at + at[i];
    p.free_at += t;
  }
}

std::size_t StagingScheduler::Planner::earliest_drive() const {
  std::size_t best = drives_.size();
  for (std::size_t e = 0; e < drives_.size(); ++e)
    if (drives_[e].available && (best == drives_.size() || drives_[e].free_at < drives_[best].free_at))
      best = e;
  return best;
}

// Cartridges waiting for a drive, in the order the scheduler ranks them, each to the drive that is
// free first: unmount what it holds, mount, one forward pass.
void StagingScheduler::Planner::plan_waiting_recall(const StagingScheduler& s) {
  const auto ranked = s.ranked_candidates(s.drives_.size());
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    rank_[ranked[i]] = i + 1;
    const std::size_t e = earliest_drive();
    if (e == drives_.size()) break;
    DrivePlan& p = drives_[e];
    double t = p.free_at + (p.loaded.empty() ? 0 : timing_->unmount(p.head)) + timing_->mount();
    const auto& reads = s.by_cart_.at(ranked[i]);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks;
    for (const auto& [rec, r] : reads) blocks.push_back({r->first(), r->last()});
    std::vector<double> at;
    std::uint64_t end = 0;
    const double pass = pass_time(*timing_, 0, blocks, &at, &end);
    std::size_t k = 0;
    for (const auto& [rec, r] : reads) done_[r.get()] = t + at[k++];
    p.free_at = t + pass;
    p.head = end;
    p.loaded = ranked[i];
  }
}

// Policy Fcfs: every read in arrival order on the drive free first, mounting as it must.
void StagingScheduler::Planner::plan_waiting_fcfs(const StagingScheduler& s) {
  std::vector<const Read*> order;
  for (const auto& [volser, reads] : s.by_cart_)
    if (s.in_library(volser))
      for (const auto& [rec, r] : reads) order.push_back(r.get());
  std::sort(order.begin(), order.end(), [](const Read* a, const Read* b) { return a->seq < b->seq; });
  std::size_t next_rank = 1;
  for (const Read* r : order) {
    const std::string& volser = r->current().volser;
    if (!rank_.count(volser)) rank_[volser] = next_rank++;
    std::size_t e = drives_.size();
    for (std::size_t i = 0; i < drives_.size(); ++i)
      if (drives_[i].available && drives_[i].loaded == volser) e = i;
    if (e == drives_.size()) e = earliest_drive();
    if (e == drives_.size()) break;
    DrivePlan& p = drives_[e];
    double t = p.free_at;
    if (p.loaded != volser) {
      t += (p.loaded.empty() ? 0 : timing_->unmount(p.head)) + timing_->mount();
      p.head = 0;
      p.loaded = volser;
    }
    t += pass_time(*timing_, p.head, {{r->first(), r->last()}}, nullptr, &p.head);
    done_[r] = t;
    p.free_at = t;
  }
}

double StagingScheduler::Planner::done_at(const Read* r) const {
  auto it = done_.find(r);
  return it == done_.end() ? now_ : it->second;
}

std::size_t StagingScheduler::Planner::rank(const std::string& volser) const {
  auto it = rank_.find(volser);
  return it == rank_.end() ? 0 : it->second;
}

// ---- status ----

RequestStatus StagingScheduler::status_of(const Request& r, const Planner* plan) const {
  RequestStatus s;
  s.id = r.id;
  s.who = r.who;
  s.priority = r.priority;
  s.what = r.what;
  s.tag = r.tag;
  s.chunks = r.slots.size();
  s.chunks_done = r.done;
  s.bytes = r.bytes;
  s.bytes_done = r.bytes_done;
  s.waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.submitted_real).count();
  if (r.open == 0) {
    s.state = r.first_error.empty() ? "done" : "failed";
    s.error = r.first_error;
    return s;
  }
  // The most telling state among its pending reads: an operator, then a drive at work for it.
  enum Rank { Waiting, Mounting, Positioning, Reading, Operator };
  int best = -1;
  const double at = plan ? plan->now() : now();  // one "now" for all the figures below
  double eta = at;
  bool unknown = false;
  std::size_t position = 0;
  std::set<std::string> carts;
  for (const auto& slot : r.slots) {
    if (slot.state != Slot::State::Pending) continue;
    auto it = reads_.find(slot.want.sha);
    if (it == reads_.end()) continue;
    const Read& read = *it->second;
    const std::string& volser = read.current().volser;
    carts.insert(volser);
    int state = Waiting, drive = -1;
    if (auto w = operator_waits_.find(volser);
        w != operator_waits_.end() &&
        std::find(w->second.begin(), w->second.end(), it->second) != w->second.end()) {
      state = Operator;
    } else {
      for (std::size_t e = 0; e < drives_.size(); ++e) {
        const Drive& dr = *drives_[e];
        if (dr.loaded != volser && dr.target != volser) continue;
        drive = static_cast<int>(e);
        const bool mine = std::find(dr.batch.begin(), dr.batch.end(), it->second) != dr.batch.end();
        if (dr.activity == Drive::Activity::Mounting ||
            (dr.activity == Drive::Activity::Unmounting && dr.target == volser))
          state = Mounting;
        if (mine && dr.activity == Drive::Activity::Positioning) state = Positioning;
        if (mine && dr.activity == Drive::Activity::Reading) state = Reading;
      }
    }
    if (plan) {
      const double done = plan->done_at(&read);
      if (done < 0) unknown = true;
      eta = std::max(eta, done);
      if (drive < 0) {
        const std::size_t k = plan->rank(volser);
        if (k && (!position || k < position)) position = k;
      }
    }
    if (state > best || (state == best && drive < 0 && plan && plan->rank(volser) == position)) {
      best = state;
      s.cartridge = volser;
      s.drive = drive;
    }
  }
  static const char* const names[] = {"waiting for drive", "mounting", "positioning", "reading",
                                      "waiting for operator"};
  s.state = names[std::max(best, 0)];
  s.position = position;
  s.cartridges.assign(carts.begin(), carts.end());
  s.eta_model_s = unknown ? -1 : std::max(0.0, eta - at);
  s.eta_s = unknown ? -1 : backend_.clock().to_real(s.eta_model_s);
  return s;
}

std::vector<RequestStatus> StagingScheduler::queue() const {
  std::lock_guard lk(mu_);
  Planner plan(*this);
  std::vector<RequestStatus> out;
  for (const auto& [id, r] : requests_) out.push_back(status_of(*r, &plan));
  return out;
}

std::size_t StagingScheduler::outstanding() const {
  std::lock_guard lk(mu_);
  return requests_.size();
}

std::optional<RequestStatus> StagingScheduler::status(std::uint64_t id) const {
  std::lock_guard lk(mu_);
  if (auto it = requests_.find(id); it != requests_.end()) {
    Planner plan(*this);
    return status_of(*it->second, &plan);
  }
  for (const auto& s : finished_)
    if (s.id == id) return s;
  return std::nullopt;
}

std::vector<DriveStatus> StagingScheduler::drives() const {
  std::lock_guard lk(mu_);
  std::vector<DriveStatus> out;
  for (std::size_t e = 0; e < drives_.size(); ++e) {
    const Drive& dr = *drives_[e];
    DriveStatus d;
    d.drive = e;
    d.activity = activity_name(static_cast<int>(dr.activity));
    d.cartridge = dr.activity == Drive::Activity::Mounting ? dr.target : dr.loaded;
    d.position = backend_.position(e);
    d.lent_to = dr.lent_to;
    d.counters = backend_.counters(e);
    out.push_back(std::move(d));
  }
  return out;
}

StagingScheduler::Stats StagingScheduler::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

StageEstimate StagingScheduler::estimate(const std::vector<WantedChunk>& chunks) const {
  std::set<std::string> offsite;
  std::map<std::string, std::uint64_t> mounted;  // cartridges in a drive, with its head: no mount needed
  {
    std::lock_guard lk(mu_);
    offsite = offsite_;
    for (std::size_t e = 0; e < drives_.size(); ++e)
      if (!drives_[e]->loaded.empty()) mounted[drives_[e]->loaded] = backend_.position(e);
  }
  const TimingModel& t = backend_.timing();
  StageEstimate est;
  est.drives = drives_.size();
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> by_cart;
  std::map<std::string, StageEstimate::Cartridge> carts;
  std::set<Digest> seen;
  for (const auto& c : chunks) {
    if (c.copies.empty() || !seen.insert(c.sha).second) continue;
    const TapeCopy* pick = nullptr;
    for (const auto& copy : c.copies)
      if (!offsite.count(copy.volser)) {
        pick = &copy;
        break;
      }
    if (!pick) {
      pick = &c.copies.front();
      est.needs_operator = true;
    }
    by_cart[pick->volser].push_back({pick->ref.first_record(), pick->ref.last_record()});
    auto& k = carts[pick->volser];
    k.volser = pick->volser;
    k.in_library = !offsite.count(pick->volser);
    k.chunks++;
    k.bytes += c.size;
    est.chunks++;
    est.bytes += c.size;
  }
  double total = 0, longest_without_unmount = 0, max_unmount = 0;
  std::vector<std::pair<double, double>> passes;  // (mount + pass + unmount, unmount) per cartridge
  for (auto& [volser, blocks] : by_cart) {
    std::sort(blocks.begin(), blocks.end());
    std::uint64_t end = 0;
    auto in_drive = mounted.find(volser);
    const double pass = pass_time(t, in_drive == mounted.end() ? 0 : in_drive->second, blocks, nullptr, &end);
    const double unmount = t.unmount(end);
    auto& k = carts[volser];
    k.pass_model_s = (in_drive == mounted.end() ? t.mount() : 0.0) + pass + unmount;
    total += k.pass_model_s;
    longest_without_unmount = std::max(longest_without_unmount, k.pass_model_s - unmount);
    max_unmount = std::max(max_unmount, unmount);
    passes.push_back({k.pass_model_s, unmount});
    est.cartridges.push_back(k);
  }
  // A drive's last cartridge need not be unmounted before the last byte is in: hence the unmount
  // taken off.
  if (!est.cartridges.empty() && est.drives > 0)
    est.lower_bound_model_s =
        std::max(longest_without_unmount, total / static_cast<double>(est.drives) - max_unmount);
  // With two drives and not too many cartridges, the best split of whole passes over the drives
  // is found by trying every split: the exact bound, not just the average.
  if (est.drives == 2 && passes.size() >= 2 && passes.size() <= 20) {
    auto drive_time = [&](std::uint32_t mask, bool in) {
      double t = 0, last = 0;  // the drive ends with its largest unmount left out
      for (std::size_t i = 0; i < passes.size(); ++i)
        if (((mask >> i) & 1) == in) t += passes[i].first, last = std::max(last, passes[i].second);
      return t - last;
    };
    double best = 1e300;
    for (std::uint32_t mask = 0; mask < (1u << (passes.size() - 1));
         ++mask)  // the last one always on drive 1
      best = std::min(best, std::max(drive_time(mask, true), drive_time(mask, false)));
    est.lower_bound_model_s = std::max(est.lower_bound_model_s, best);
  }
  est.lower_bound_s = backend_.clock().to_real(est.lower_bound_model_s);
  return est;
}

}  // namespace recall::tape
