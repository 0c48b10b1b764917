#include "catalogd/http/fd_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <cerrno>
#include <utility>

namespace recall {
namespace {

boost::system::error_code errno_code(int err) { return {err, boost::system::system_category()}; }

}  // namespace

FdStream::FdStream(int fd) : fd_(fd) {
  if (fd_ >= 0) {
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }
}

FdStream::~FdStream() { close(); }

FdStream::FdStream(FdStream&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      read_deadline_(other.read_deadline_),
      read_idle_(other.read_idle_),
      write_timeout_(other.write_timeout_) {}

FdStream& FdStream::operator=(FdStream&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    read_deadline_ = other.read_deadline_;
    read_idle_ = other.read_idle_;
    write_timeout_ = other.write_timeout_;
  }
  return *this;
}

void FdStream::close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

bool FdStream::peer_closed() const {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  int r = ::poll(&p, 1, 0);
  return r != 0;  // readable, hung up, error, or poll itself failed: do not reuse
}

bool FdStream::wait(short events, std::optional<Clock::time_point> until,
                    boost::system::error_code& ec) const {
  for (;;) {
    int timeout_ms = -1;
    if (until) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - Clock::now()).count();
      if (left <= 0) {
        ec = boost::asio::error::timed_out;
        return false;
      }
      timeout_ms = static_cast<int>(std::min<long long>(left, 1 << 30));
    }
    pollfd p{fd_, events, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return true;  // ready, or POLLHUP/POLLERR: the next syscall reports it
    if (r < 0 && errno != EINTR) {
      ec = errno_code(errno);
      return false;
    }
  }
}

std::size_t FdStream::readv_some(iovec* iov, int count, boost::system::error_code& ec) {
  ec = {};
  if (count == 0) return 0;  // asio semantics: an empty read completes at once
  if (fd_ < 0) {
    ec = boost::asio::error::bad_descriptor;
    return 0;
  }
  std::optional<Clock::time_point> until = read_deadline_;
  if (read_idle_.count() > 0) {
    auto idle_end = Clock::now() + read_idle_;
    if (!until || idle_end < *until) until = idle_end;
  }
  for (;;) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    ssize_t n = ::recvmsg(fd_, &msg, 0);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
      ec = boost::asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec = errno_code(errno);
      return 0;
    }
    if (!wait(POLLIN, until, ec)) return 0;
  }
}

std::size_t FdStream::writev_some(const iovec* iov, int count, boost::system::error_code& ec) {
  ec = {};
  if (count == 0) return 0;
  if (fd_ < 0) {
    ec = boost::asio::error::bad_descriptor;
    return 0;
  }
  std::optional<Clock::time_point> until;
  if (write_timeout_.count() > 0) until = Clock::now() + write_timeout_;
  for (;;) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<std::size_t>(count);
    // MSG_NOSIGNAL: a client that went away must give EPIPE here, not kill the daemon with SIGPIPE.
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec = errno_code(errno);
      return 0;
    }
    if (!wait(POLLOUT, until, ec)) return 0;
  }
}

}  // namespace recall
