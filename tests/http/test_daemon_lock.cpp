#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "catalogd/http/daemon_lock.h"
#include "temp_dir.h"

namespace recall {
namespace {

TEST(DaemonLock, SecondHolderGetsConflictWithPid) {
  testing::TempDir home;
  auto first = DaemonLock::acquire(home.path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::ifstream file(home.path() + "/recalld.lock");
  pid_t written = 0;
  file >> written;
  EXPECT_EQ(written, ::getpid());

  auto second = DaemonLock::acquire(home.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::Conflict);
  EXPECT_EQ(second.error().message, "another recalld is already running on " + home.path() + " (pid " +
                                        std::to_string(::getpid()) + ")");
}

TEST(DaemonLock, ReleasedOnDestructionAndMove) {
  testing::TempDir home;
  {
    auto lock = DaemonLock::acquire(home.path());
    ASSERT_TRUE(lock.ok());
    DaemonLock moved = std::move(lock.value());
    EXPECT_FALSE(DaemonLock::acquire(home.path()).ok());
  }
  EXPECT_TRUE(DaemonLock::acquire(home.path()).ok());
}

TEST(DaemonLock, MissingHomeIsIo) {
  auto lock = DaemonLock::acquire("/nonexistent/recall-home");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().kind, ErrorKind::Io);
}

TEST(TerminationSignal, WaitReturnsTheBlockedSignal) {
  // In a thread of its own: the signal mask is per thread, and pthread_kill targets this thread only.
  int got = 0;
  std::thread t([&] {
    block_termination_signals();
    ::pthread_kill(::pthread_self(), SIGTERM);
    got = wait_for_termination_signal();
  });
  t.join();
  EXPECT_EQ(got, SIGTERM);
}

}  // namespace
}  // namespace recall
