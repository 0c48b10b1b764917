#include "catalogd/http/daemon_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace recall {
namespace {

// The pid the current holder wrote; empty if it has not written it yet.
std::string read_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

Result<DaemonLock> DaemonLock::acquire(const std::string& home) {
  std::string path = home + "/recalld.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot open " + path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      std::string pid = read_pid(fd);
      ::close(fd);
      return Error{ErrorKind::Conflict, "another recalld is already running on " + home + " (pid " +
                                            (pid.empty() ? std::string("unknown") : pid) + ")"};
    }
    ::close(fd);
    return io_error("cannot lock " + path, err);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return io_error("cannot write " + path, err);
  }
  return DaemonLock(fd, std::move(path));
}

DaemonLock::DaemonLock(DaemonLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

DaemonLock& DaemonLock::operator=(DaemonLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

DaemonLock::~DaemonLock() {
  // Closing the only descriptor of this open file description releases the flock. The pid is
  // left in the file; it is only read while the lock is held by someone.
  if (fd_ >= 0) ::close(fd_);
}

void block_termination_signals() {
  sigset_t set = termination_signals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_termination_signal() {
  sigset_t set = termination_signals();
  int signal = 0;
  while (::sigwait(&set, &signal) != 0) {
  }
  return signal;
}

}  // namespace recall
