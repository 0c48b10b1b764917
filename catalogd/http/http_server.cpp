#include "catalogd/http/http_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "catalogd/http/fd_stream.h"
#include "catalogd/http/http_errors.h"
#include "catalogd/http/unix_socket.h"

namespace recall {
namespace bhttp = boost::beast::http;
namespace {

constexpr const char* kServerName = "recalld";

// Writes responses to one connection. keep_alive starts as what the request asked for and drops to
// false whenever the connection can no longer carry another response.
class SocketResponder : public Responder {
 public:
  SocketResponder(FdStream& stream, unsigned version, bool keep_alive)
      : stream_(stream), version_(version), keep_alive_(keep_alive) {}

  bool reusable() const { return keep_alive_ && complete(); }

  bool client_gone() const override {
    pollfd p{stream_.fd(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
  }

 protected:
  Status do_send(const Head& head, std::string body) override {
    bhttp::response<bhttp::string_body> res{head.status, version_};
    fill(res, head);
    res.body() = std::move(body);
    res.prepare_payload();
    res.keep_alive(keep_alive_);
    boost::system::error_code ec;
    bhttp::write(stream_, res, ec);
    return check(ec);
  }

  Status do_begin_stream(const Head& head, std::optional<std::uint64_t> content_length) override {
    bhttp::response<bhttp::empty_body> res{head.status, version_};
    fill(res, head);
    if (content_length) {
      res.content_length(*content_length);
    } else if (version_ >= 11) {
      chunked_ = true;
      res.chunked(true);
    } else {
      keep_alive_ = false;  // HTTP/1.0 has no chunked encoding: the end of the body is the close
    }
    res.keep_alive(keep_alive_);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    boost::system::error_code ec;
    bhttp::write_header(stream_, sr, ec);
    return check(ec);
  }

  Status do_write(std::span<const std::uint8_t> data) override {
    boost::system::error_code ec;
    auto buffer = boost::asio::buffer(data.data(), data.size());
    if (chunked_) {
      boost::asio::write(stream_, bhttp::make_chunk(buffer), ec);
    } else {
      boost::asio::write(stream_, buffer, ec);
    }
    return check(ec);
  }

  Status do_finish() override {
    if (!chunked_) return {};
    boost::system::error_code ec;
    boost::asio::write(stream_, bhttp::make_chunk_last(), ec);
    return check(ec);
  }

  Status do_finish_with_trailer(const std::string& name, const std::string& value) override {
    if (!chunked_) return {};  // cut off: the client sees the body short
    bhttp::fields trailer;
    trailer.set(name, value);
    boost::system::error_code ec;
    boost::asio::write(stream_, bhttp::make_chunk_last(trailer), ec);
    keep_alive_ = false;  // the handler failed midway: start afresh
    return check(ec);
  }

 private:
  template <class Message>
  static void fill(Message& res, const Head& head) {
    res.set(bhttp::field::server, kServerName);
    if (!head.content_type.empty()) res.set(bhttp::field::content_type, head.content_type);
    for (const auto& [name, value] : head.headers) res.set(name, value);
  }

  Status check(const boost::system::error_code& ec) {
    if (!ec) return {};
    keep_alive_ = false;
    if (ec == boost::asio::error::broken_pipe || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::eof) {
      return Error{ErrorKind::Cancelled, "the client closed the connection"};
    }
    if (ec == boost::asio::error::timed_out)
      return Error{ErrorKind::Timeout, "the client stopped reading the response"};
    return Error{ErrorKind::Io, "writing the response failed: " + ec.message()};
  }

  FdStream& stream_;
  unsigned version_;
  bool keep_alive_;
  bool chunked_ = false;
};

// Answers a request that never reached the handler (malformed, too large, too slow) and closes.
void send_transport_error(FdStream& stream, bhttp::status status, ErrorKind kind, std::string message) {
  SocketResponder responder(stream, 11, /*keep_alive=*/false);
  responder.send(status, error_body(Error{kind, std::move(message)}));
}

}  // namespace

HttpServer::HttpServer(Options options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { stop(); }

std::string_view HttpServer::target(const Request& request) {
  auto t = request.target();
  return {t.data(), t.size()};
}

Status HttpServer::start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (started_) return Error{ErrorKind::Internal, "HttpServer::start called twice"};
  const std::string& path = options_.socket_path;
  auto listener = listen_unix(path, SOCK_NONBLOCK);
  if (!listener.ok()) return listener.error();
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    ::unlink(path.c_str());
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

void HttpServer::stop() {
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

HttpServer::Stats HttpServer::stats() const {
  std::lock_guard lock(mu_);
  return Stats{accepted_, rejected_busy_, requests_.load(), active_};
}

void HttpServer::log(std::string_view message) const {
  if (options_.log) options_.log(message);
}

void HttpServer::wake_accept_thread() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void HttpServer::accept_loop() {
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
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      admit(fd);
      continue;
    }
    int err = errno;
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
      // Out of descriptors or memory: the pending client stays queued; back off instead of
      // spinning on a listen socket that stays readable.
      log(std::string("recalld: accept: ") + std::strerror(err) + "; pausing 100 ms");
      pollfd wake{wake_fd_, POLLIN, 0};
      ::poll(&wake, 1, 100);
    } else if (err != EAGAIN && err != EINTR && err != ECONNABORTED) {
      log(std::string("recalld: accept: ") + std::strerror(err));
    }
  }
}

void HttpServer::admit(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    log(std::string("recalld: SO_PEERCRED: ") + std::strerror(errno));
    ::close(fd);
    return;
  }
  Caller caller{cred.pid, cred.uid, cred.gid};
  std::unique_lock lock(mu_);
  if (active_ >= options_.max_connections) {
    ++rejected_busy_;
    lock.unlock();
    reject_busy(fd);
    return;
  }
  Connection& c = connections_.emplace_back();
  c.fd = fd;
  try {
    c.thread = std::thread([this, conn = &c, caller] { serve(conn, caller); });
  } catch (const std::system_error& e) {
    connections_.pop_back();
    ++rejected_busy_;
    lock.unlock();
    log(std::string("recalld: cannot start a connection thread: ") + e.what());
    reject_busy(fd);
    return;
  }
  ++active_;
  ++accepted_;
}

void HttpServer::reject_busy(int fd) {
  // Runs on the accept thread, so it must not block: a fresh socket's send buffer always has room
  // for this short answer, and the client's request (if already sent) is drained without waiting so
  // the close does not reset the connection before the client reads the 503.
  FdStream stream(fd);
  stream.set_write_timeout(std::chrono::milliseconds(1));
  char scratch[4096];
  while (::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0) {
  }
  send_transport_error(stream, bhttp::status::service_unavailable, ErrorKind::Io,
                       "recalld is busy: " + std::to_string(options_.max_connections) +
                           " connections are open, the limit; try again later");
}

void HttpServer::reap_finished() {
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

void HttpServer::serve(Connection* connection, Caller caller) {
  FdStream stream(connection->fd);
  stream.set_write_timeout(options_.write_timeout);
  serve_requests(stream, caller);
  {
    std::lock_guard lock(mu_);
    connection->fd = -1;
    connection->done = true;
    --active_;
    stream.close();  // under mu_: stop() must never shutdown() a number already reused elsewhere
  }
  wake_accept_thread();  // so the accept thread joins this thread
}

void HttpServer::serve_requests(FdStream& stream, const Caller& caller) {
  boost::beast::flat_buffer buffer;  // keeps bytes read past one request (pipelining)
  while (!stopping_) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options_.body_limit);
    stream.set_read_deadline(FdStream::Clock::now() + options_.read_timeout);
    boost::system::error_code ec;
    bhttp::read_header(stream, buffer, parser, ec);
    if (!ec && parser.get()[bhttp::field::expect] == "100-continue") {
      // curl and others wait for this before sending a large body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      boost::asio::write(stream, boost::asio::buffer(kContinue.data(), kContinue.size()), ec);
    }
    if (!ec) bhttp::read(stream, buffer, parser, ec);
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        send_transport_error(
            stream, bhttp::status::payload_too_large, ErrorKind::Invalid,
            "the request body is larger than " + std::to_string(options_.body_limit) + " bytes");
      } else if (ec == bhttp::error::header_limit) {
        send_transport_error(stream, bhttp::status::request_header_fields_too_large, ErrorKind::Invalid,
                             "the request headers are too large");
      } else if (ec == boost::asio::error::timed_out && (parser.got_some() || buffer.size() > 0)) {
        send_transport_error(
            stream, bhttp::status::request_timeout, ErrorKind::Timeout,
            "the request did not arrive within " + std::to_string(options_.read_timeout.count()) + " s");
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
                 ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        send_transport_error(stream, bhttp::status::bad_request, ErrorKind::Invalid,
                             "malformed HTTP request: " + ec.message());
      }
      // Otherwise: the client closed, or an idle keep-alive connection timed out. Nothing to say.
      return;
    }
    stream.set_read_deadline(std::nullopt);  // handlers may take long; writes have their own timeout

    const Request& request = parser.get();
    ++requests_;
    SocketResponder responder(stream, request.version(), request.keep_alive());
    try {
      handler_(request, caller, responder);
    } catch (const std::exception& e) {
      responder.send_error(
          Error{ErrorKind::Internal, std::string("unhandled exception in handler: ") + e.what()});
    } catch (...) {
      responder.send_error(Error{ErrorKind::Internal, "unhandled exception in handler"});
    }
    if (!responder.responded()) {
      responder.send_error(
          Error{ErrorKind::Internal, "the handler for " + std::string(request.method_string()) + " " +
                                         std::string(request.target()) + " sent no response"});
    }
    if (!responder.reusable()) return;
  }
}

}  // namespace recall
