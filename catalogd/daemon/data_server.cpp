#include "catalogd/daemon/data_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "catalogd/http/http_errors.h"
#include "catalogd/http/unix_socket.h"

namespace recall::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// One JSON line; a string that is not UTF-8 (a file name) is replaced rather than thrown on.
std::string line_of(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Sends `line` whole, `pass` (if valid) riding on its first byte. False when the client is gone
// or stopped reading.
bool send_line(int fd, const std::string& line, const UniqueFd& pass) {
  std::size_t sent = 0;
  while (sent < line.size()) {
    iovec iov{const_cast<char*>(line.data() + sent), line.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (sent == 0 && pass) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      int raw = pass.get();
      std::memcpy(CMSG_DATA(c), &raw, sizeof(int));
    }
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads the next request line into `line`. Returns false when there is none: the client closed,
// the idle timeout passed, the server is stopping, or the line is too long (then `error` is set).
bool read_line(int fd, std::string& buffer, std::string& line, std::size_t max,
               std::chrono::milliseconds idle, const std::atomic<bool>& stopping,
               std::optional<Error>& error) {
  const auto deadline = Clock::now() + idle;
  for (;;) {
    if (auto nl = buffer.find('\n'); nl != std::string::npos) {
      if (nl > max) break;
      line.assign(buffer, 0, nl);
      buffer.erase(0, nl + 1);
      return true;
    }
    if (buffer.size() > max) break;
    if (stopping) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) return false;
    if (rc <= 0) continue;
    char piece[16 << 10];
    ssize_t n = ::recv(fd, piece, sizeof(piece), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;  // closed (a partial line is dropped) or reset
    buffer.append(piece, static_cast<std::size_t>(n));
  }
  error = Error{ErrorKind::Invalid, "a request line is longer than " + std::to_string(max) + " bytes"};
  return false;
}

}  // namespace

DataServer::DataServer(Options options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

DataServer::~DataServer() { stop(); }

Status DataServer::start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (started_) return Error{ErrorKind::Internal, "DataServer::start called twice"};
  auto listener = listen_unix(options_.socket_path, SOCK_NONBLOCK);
  if (!listener.ok()) return listener.error();
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    ::unlink(options_.socket_path.c_str());
    return io_error("eventfd", err);
  }
  listen_fd_ = listener->fd.release();
  wake_fd_ = wake;
  socket_dev_ = listener->dev;
  socket_ino_ = listener->ino;
  started_ = true;
  accept_thread_ = std::thread([this] { accept_loop(); });
  return {};
}

void DataServer::stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  wake_accept_thread();
  accept_thread_.join();  // after this no connection is added
  ::close(std::exchange(listen_fd_, -1));
  remove_socket_file(options_.socket_path, socket_dev_, socket_ino_);
  std::list<Connection> all;
  {
    std::lock_guard lock(mu_);
    // Under mu_, so a connection thread cannot close the fd (and the number be reused) meanwhile.
    for (Connection& c : connections_) {
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
    }
    all.splice(all.end(), connections_);
  }
  for (Connection& c : all) c.thread.join();
  ::close(std::exchange(wake_fd_, -1));
}

DataServer::Stats DataServer::stats() const {
  std::lock_guard lock(mu_);
  return Stats{accepted_, rejected_busy_, requests_.load(), active_};
}

void DataServer::log(std::string_view message) const {
  if (options_.log) options_.log(message);
}

void DataServer::wake_accept_thread() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void DataServer::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents & POLLIN) {
      std::uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof(count));
      reap_finished();
      if (stopping_) break;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      admit(fd);
      continue;
    }
    int err = errno;
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
      // Out of descriptors or memory: back off instead of spinning on a readable listen socket.
      log(std::string("data socket: accept: ") + std::strerror(err) + "; pausing 100 ms");
      pollfd wake{wake_fd_, POLLIN, 0};
      ::poll(&wake, 1, 100);
    } else if (err != EAGAIN && err != EINTR && err != ECONNABORTED) {
      log(std::string("data socket: accept: ") + std::strerror(err));
    }
  }
}

void DataServer::admit(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    log(std::string("data socket: SO_PEERCRED: ") + std::strerror(errno));
    ::close(fd);
    return;
  }
  auto busy = [&] {
    // On the accept thread: must not block. A fresh socket's buffer has room for this line, and
    // a request already sent is drained so the close does not reset the connection before the
    // client reads why.
    char scratch[4096];
    while (::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0) {
    }
    std::string line = line_of(
        error_body(Error{ErrorKind::Io, "recalld is busy: " + std::to_string(options_.max_connections) +
                                            " data connections are open, the limit; try again later"}));
    [[maybe_unused]] ssize_t n = ::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::close(fd);
  };
  std::unique_lock lock(mu_);
  if (active_ >= options_.max_connections) {
    ++rejected_busy_;
    lock.unlock();
    return busy();
  }
  Connection& c = connections_.emplace_back();
  c.fd = fd;
  try {
    c.thread = std::thread(
        [this, conn = &c, caller = Caller{cred.pid, cred.uid, cred.gid}] { serve(conn, caller); });
  } catch (const std::system_error& e) {
    connections_.pop_back();
    ++rejected_busy_;
    lock.unlock();
    log(std::string("data socket: cannot start a connection thread: ") + e.what());
    return busy();
  }
  ++active_;
  ++accepted_;
}

void DataServer::reap_finished() {
  std::list<Connection> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->done) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  for (Connection& c : finished) c.thread.join();
}

void DataServer::serve(Connection* connection, Caller caller) {
  const int fd = connection->fd;
  timeval tv{static_cast<time_t>(options_.write_timeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  // The client hung up or shut down its side (or the server is stopping): its request is withdrawn.
  auto cancelled = [this, fd]() -> bool {
    if (stopping_) return true;
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
  };
  const std::function<bool()> cancelled_fn = cancelled;
  std::string buffer, line;
  for (;;) {
    std::optional<Error> too_long;
    if (!read_line(fd, buffer, line, options_.max_request, options_.idle_timeout, stopping_, too_long)) {
      if (too_long) send_line(fd, line_of(error_body(*too_long)), UniqueFd());
      break;
    }
    ++requests_;
    Result<std::pair<nlohmann::json, UniqueFd>> reply = Error{ErrorKind::Internal, "no reply"};
    nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      reply = Error{ErrorKind::Invalid, "a request must be one JSON object on one line"};
    } else {
      try {
        reply = handler_(caller, request, cancelled_fn);
      } catch (const std::exception& e) {
        reply = Error{ErrorKind::Internal, std::string("unhandled exception in data handler: ") + e.what()};
      } catch (...) {
        reply = Error{ErrorKind::Internal, "unhandled exception in data handler"};
      }
    }
    if (reply.ok() && !reply->first.is_object())
      reply =
          Error{ErrorKind::Internal, "the data handler answered with something that is not a JSON object"};
    bool sent;
    if (!reply.ok()) {
      sent = send_line(fd, line_of(error_body(reply.error())), UniqueFd());
    } else {
      if (reply->second) reply->first["fd"] = true;
      sent = send_line(fd, line_of(reply->first), reply->second);
    }
    if (!sent) break;
  }
  {
    std::lock_guard lock(mu_);
    connection->fd = -1;
    connection->done = true;
    --active_;
    ::close(fd);  // under mu_: stop() must never shutdown() a number already reused elsewhere
  }
  wake_accept_thread();  // so the accept thread joins this thread
}

}  // namespace recall::daemon
