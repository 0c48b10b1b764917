// The scheduler's private state (internal to scheduler*.cpp).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tapebridge/scheduler.h"

namespace recall::tape {

struct StagingScheduler::Slot {
  enum class State { Pending, Ready, Failed, Taken } state = State::Pending;
  WantedChunk want;
  ChunkCache::Pin pin;  // while Ready, for requests that hold pins
  std::string error;
};

struct StagingScheduler::Request {
  std::uint64_t id = 0;
  Requester who;
  Priority priority = Priority::Restore;
  std::string what;
  std::string tag;
  bool hold_pins = true;
  double submitted = 0;  // model time
  std::chrono::steady_clock::time_point submitted_real;
  std::vector<Slot> slots;
  std::size_t open = 0;  // slots still Pending
  std::size_t done = 0;
  std::uint64_t bytes = 0, bytes_done = 0;
  bool withdrawn = false;
  std::string first_error;
  ErrorKind error_kind = ErrorKind::Corrupt;
};

// One chunk to read from one of its copies, for everyone who wants it.
struct StagingScheduler::Read {
  Digest sha{};
  std::uint64_t size = 0;
  std::vector<TapeCopy> copies;
  std::size_t copy = 0;             // the copy being tried
  std::vector<bool> failed;         // per copy: a read of it failed
  std::vector<std::string> errors;  // what went wrong with each copy tried
  std::vector<std::pair<std::shared_ptr<Request>, std::size_t>> wanters;
  bool in_progress = false;  // in a drive's batch right now
  std::uint64_t seq = 0;     // arrival order (policy Fcfs)

  const TapeCopy& current() const { return copies[copy]; }
  std::uint64_t first() const { return current().ref.first_record(); }
  std::uint64_t last() const { return current().ref.last_record(); }
  Priority best_priority() const;
  double oldest() const;
};

struct StagingScheduler::Drive {
  enum class Activity { Idle, Mounting, Unmounting, Positioning, Reading, Lent };
  Activity activity = Activity::Idle;
  std::string loaded;  // the cartridge in the drive, "" when empty (in step with the backend)
  std::string target;  // the cartridge being mounted or written to
  double mounted_at = 0;
  double op_started = 0, op_estimate = 0;    // model times, for ETAs
  std::vector<std::shared_ptr<Read>> batch;  // reads in the operation under way
  std::set<std::uint32_t> serving;           // users whose reads its cartridge holds
  std::string lent_to;
  std::string evict;     // a cartridge someone else needs: unmount it when idle, if it is still this one
  bool faulted = false;  // an unmount failed: the drive is left alone (it needs a person)
};

// A writer waiting in lend_drive().
struct LeaseWait {
  std::string who;
  std::optional<std::size_t> drive;
};

const char* activity_name(int activity);

// When each pending read will be done, and each waiting cartridge's place in the line for a
// drive: a simulation of the scheduler's own choices from the state it is in (scheduler_plan.cpp).
class StagingScheduler::Planner {
 public:
  explicit Planner(const StagingScheduler& s);        // with s.mu_ held
  double done_at(const Read* r) const;                // model time; -1 when an operator must act first
  std::size_t rank(const std::string& volser) const;  // 1-based among cartridges waiting; 0 if none
  double now() const { return now_; }

 private:
  void plan_claimed(const StagingScheduler& s);
  void plan_waiting_recall(const StagingScheduler& s);
  void plan_waiting_fcfs(const StagingScheduler& s);
  std::size_t earliest_drive() const;
  struct DrivePlan {
    bool available = true;
    double free_at = 0;
    std::uint64_t head = 0;
    std::string loaded;
    std::string next;  // a cartridge it will mount once its operation is over
  };
  double now_ = 0;
  const TimingModel* timing_ = nullptr;
  std::vector<DrivePlan> drives_;
  std::map<const Read*, double> done_;
  std::map<std::string, std::size_t> rank_;
};

// Model seconds to read blocks (first, last record) in the order given, the head starting at
// `from`; `done_at[i]` gets when block i is read, counted from 0, and `end_position` where the
// head ends up. Blocks sharing a record cost it once.
double pass_time(const TimingModel& t, std::uint64_t from,
                 const std::vector<std::pair<std::uint64_t, std::uint64_t>>& blocks,
                 std::vector<double>* done_at, std::uint64_t* end_position);

}  // namespace recall::tape
