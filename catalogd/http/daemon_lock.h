// Process-level pieces of running recalld: one daemon per home directory, and a clean exit on
// SIGTERM/SIGINT.
#pragma once

#include <string>

#include "common/result.h"

namespace recall {

// An exclusive flock(2) on HOME/recalld.lock holding the owner's pid. The kernel drops the lock
// when the process dies, so a crash never leaves a stale lock; the file itself stays (unlinking
// lock files lets two processes lock two different inodes).
class DaemonLock {
 public:
  // Conflict "another recalld is already running on HOME (pid N)" when someone holds it.
  static Result<DaemonLock> acquire(const std::string& home);

  DaemonLock(DaemonLock&& other) noexcept;
  DaemonLock& operator=(DaemonLock&& other) noexcept;
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;
  ~DaemonLock();  // releases the lock

  const std::string& path() const { return path_; }

 private:
  DaemonLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later. Call at the top
// of main, before any thread exists, so the signals stay pending for wait_for_termination_signal
// instead of killing the process or interrupting a random thread.
void block_termination_signals();

// Waits until SIGTERM or SIGINT arrives (requires block_termination_signals) and returns its number.
int wait_for_termination_signal();

}  // namespace recall
