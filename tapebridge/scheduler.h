// The staging scheduler: every read that needs chunks from tape (a FUSE read, a restore, a
// prefetch) becomes a request here, and one worker per drive decides what the drive does next.
//
// Planning (policy Recall):
// - Reads are grouped by cartridge; a chunk wanted by several requests is read once.
// - A drive with a cartridge mounted serves every read waiting on it, for every user, in one
//   forward pass from its head (C-SCAN: reads behind the head wait for the next pass), reading
//   nearby blocks in one go and reading through short gaps instead of locating.
// - A free drive mounts the cartridge whose best waiting request has the highest priority; among
//   equals, the one serving the user who has had the least drive time, then the oldest request.
//   One user's cartridges never take more than max_drives_per_user drives while others wait.
// - A mounted cartridge keeps its drive until its pass is done, unless work of a higher priority
//   has waited for a drive and the cartridge has been mounted min_dwell_s, or anything has waited
//   and it has been mounted max_dwell_s (so one huge restore cannot keep a drive forever).
// - Reads are verified (record CRC, block CRC, SHA-256) before they land in the staging cache; a
//   bad copy falls over to the chunk's next copy; a copy whose cartridge is off-site raises an
//   operator request and waits for its check-in.
// Policy Fcfs is the baseline the benchmark compares with: reads in arrival order, one at a time.
//
// Migration writers borrow drives (lend_drive) when no read needs them, and give them back at
// their next commit point once a read does (Lease::should_yield).
//
// Locking: mu_ guards all state here; it is never held during a drive operation, a cache write or
// a call into the library that writes its state file... except Library calls, which take only
// the library's own mutex (lock order: mu_, then Library). Waiting callers poll their
// cancellation every 50 ms.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "tapebridge/chunk_cache.h"
#include "tapebridge/library.h"
#include "tapebridge/staging_types.h"
#include "tapebridge/tape_backend.h"

namespace recall::tape {

struct LeaseWait;

struct SchedulerConfig {
  enum class Policy { Recall, Fcfs } policy = Policy::Recall;
  std::size_t max_requests_per_user = 2000;  // outstanding at once; more are refused
  std::size_t max_drives_per_user = 0;       // 0: all drives but one while others wait (at least one)
  double min_dwell_s = 120;                  // model seconds, see above
  double max_dwell_s = 1800;
  std::uint64_t max_batch_records = 64;  // records read in one go (16 MiB)
};

class StagingScheduler {
 public:
  struct Request;

  // A submitted request, held by whoever waits for it. Dropping it withdraws the reads nobody
  // else wants and releases the chunks it holds pinned.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&&) noexcept = default;
    Ticket& operator=(Ticket&& o) noexcept;
    ~Ticket();
    std::uint64_t id() const;
    std::size_t chunks() const;
    bool valid() const { return request_ != nullptr; }

   private:
    friend class StagingScheduler;
    Ticket(StagingScheduler* s, std::shared_ptr<Request> r) : sched_(s), request_(std::move(r)) {}
    StagingScheduler* sched_ = nullptr;
    std::shared_ptr<Request> request_;
  };

  // A drive lent to a writer. The writer uses backend() on drive() for locate, write and flush.
  class Lease {
   public:
    ~Lease();
    std::size_t drive() const { return drive_; }
    TapeBackend& backend() { return sched_.backend_; }
    // Mounts `volser` in the lent drive (what it holds goes back to its slot; a cartridge in
    // another drive is taken out of it first, waiting while that drive is busy).
    Status mount(const std::string& volser, const std::function<bool()>& cancelled);
    // Reads are waiting for this drive: give it back at the next commit point.
    bool should_yield() const;

   private:
    friend class StagingScheduler;
    Lease(StagingScheduler& s, std::size_t drive) : sched_(s), drive_(drive) {}
    StagingScheduler& sched_;
    std::size_t drive_;
  };

  struct Stats {
    std::uint64_t submitted = 0, completed = 0, failed = 0, cancelled = 0, refused = 0;
    std::uint64_t chunks_staged = 0, bytes_staged = 0, chunks_from_cache = 0;
    std::uint64_t read_errors = 0, fallbacks = 0, operator_waits = 0;
    std::uint64_t leases = 0;
  };

  StagingScheduler(TapeBackend& backend, Library& library, ChunkCache& cache, SchedulerConfig config);
  ~StagingScheduler();  // stop()
  StagingScheduler(const StagingScheduler&) = delete;
  StagingScheduler& operator=(const StagingScheduler&) = delete;

  void start();
  // Fails waiting requests (Cancelled), joins the drive workers. Drives keep what is mounted.
  void stop();

  // Queues the chunks not already in the cache. Conflict when the user has too many requests
  // outstanding; Offline-free: chunks whose cartridges are all off-site wait for an operator.
  Result<Ticket> submit(StageSpec spec);
  // Waits until chunk `index` of the request is in the cache and returns it pinned (each chunk
  // once). Errors: every copy failed (Corrupt, naming each), or Cancelled when `cancelled()`.
  Result<ChunkCache::Pin> take(Ticket& ticket, std::size_t index, const std::function<bool()>& cancelled);
  // Waits until every chunk was staged or failed; the first failure, if any.
  Status wait_all(Ticket& ticket, const std::function<bool()>& cancelled);

  // The queue as it stands, with each request's place, state and ETA (finished ones dropped).
  std::vector<RequestStatus> queue() const;
  std::optional<RequestStatus> status(std::uint64_t id) const;
  std::size_t outstanding() const;  // requests not finished (cheap: no plan)
  std::vector<DriveStatus> drives() const;
  Stats stats() const;
  // What staging `chunks` would take, ignoring the queue (issue 5's cost hint, the benchmark's
  // lower bound).
  StageEstimate estimate(const std::vector<WantedChunk>& chunks) const;

  // Blocks until a drive is free for writing (reads come first); Cancelled when `cancelled()`.
  Result<std::unique_ptr<Lease>> lend_drive(const std::string& who, const std::function<bool()>& cancelled);

  // The library changed (a check-in): reads waiting for an operator may go on.
  void library_changed();
  // Releases `volser` from any idle drive (before it is checked out), waiting until it is.
  Status release_cartridge(const std::string& volser, const std::function<bool()>& cancelled);

  const TapeBackend& backend() const { return backend_; }
  const SchedulerConfig& config() const { return config_; }

 private:
  struct Read;
  struct Drive;
  struct Slot;
  class Planner;  // scheduler_plan.cpp
  friend class Planner;

  void run_drive(std::size_t d);
  // One decision and its execution; with the lock held on entry and exit.
  void step(std::size_t d, std::unique_lock<std::mutex>& lk);
  std::vector<std::string> ranked_candidates(std::size_t d) const;
  std::string best_candidate(std::size_t d) const;
  bool should_switch(std::size_t d, const std::string& candidate) const;
  std::vector<std::shared_ptr<Read>> next_batch(std::size_t d);
  std::vector<std::shared_ptr<Read>> next_fcfs(std::size_t d, std::string& volser);
  void do_mount(std::size_t d, const std::string& volser, std::unique_lock<std::mutex>& lk);
  void do_unmount(std::size_t d, std::unique_lock<std::mutex>& lk);
  void do_reads(std::size_t d, const std::string& volser, std::vector<std::shared_ptr<Read>> batch,
                std::unique_lock<std::mutex>& lk);
  // After a read of `read`'s copy failed: the next copy, an operator wait, or failure.
  void fail_over(const std::shared_ptr<Read>& read, const std::string& reason);
  void enqueue(const std::shared_ptr<Read>& read);
  void deliver(const std::shared_ptr<Read>& read, ChunkCache::Pin& landed);
  void finish_slot(Request& r, std::size_t index);
  void withdraw(const std::shared_ptr<Request>& r);
  void remember_finished(const Request& r, const char* state);
  std::optional<Error> given_up(std::unique_lock<std::mutex>& lk, std::uint64_t id,
                                const std::function<bool()>& cancelled);
  bool in_library(const std::string& volser) const;
  bool claimed_elsewhere(const std::string& volser, std::size_t d) const;
  double now() const { return backend_.clock().now(); }
  RequestStatus status_of(const Request& r, const Planner* plan) const;

  TapeBackend& backend_;
  Library& library_;
  ChunkCache& cache_;
  const SchedulerConfig config_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Drive>> drives_;
  std::vector<std::thread> workers_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Request>> requests_;  // outstanding
  std::map<Digest, std::shared_ptr<Read>> reads_;               // pending chunk reads, one per chunk
  // Reads waiting on each cartridge, by the record their block starts at.
  std::map<std::string, std::multimap<std::uint64_t, std::shared_ptr<Read>>> by_cart_;
  std::map<std::string, std::vector<std::shared_ptr<Read>>> operator_waits_;  // cartridge off-site
  std::map<std::uint32_t, double> service_;  // model seconds of drive time each user has had
  std::set<std::string> offsite_;            // cartridges not in the library, as of library_changed()
  std::deque<RequestStatus> finished_;       // the last requests that ended, for status()
  std::uint64_t fcfs_seq_ = 0;
  std::deque<LeaseWait*> lease_queue_;
  Stats stats_;
};

}  // namespace recall::tape
