// The HTTP/1.1 transport of recalld over a Unix socket: accepts connections, reads requests, hands
// each to one Handler with the caller's kernel-verified identity, writes the response. Routes live
// elsewhere (catalogd/), as plain functions of (Request, Caller, Responder).
//
// Threading model: one thread per connection running synchronous Beast reads and writes. Handlers
// call blocking SQLite code and stream multi-GB restores (possibly waiting on a tape mount), so a
// small async pool would be starved by a few slow requests; a thread per connection keeps every
// other client responsive and keeps handler code simple. max_connections bounds the thread count.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "catalogd/http/responder.h"
#include "common/result.h"

namespace recall {

class FdStream;

class HttpServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  struct Options {
    std::string socket_path;
    // One thread each; a client beyond this gets 503 and is closed.
    std::size_t max_connections = 256;
    // A whole request (headers and body) must arrive within this time of the server starting to
    // wait for it; an idle keep-alive connection is closed when it expires.
    std::chrono::seconds read_timeout{30};
    std::size_t body_limit = 1 << 20;  // request bodies are small JSON documents
    // A client that accepts no byte of a response for this long is dropped, so a stalled reader
    // cannot pin a handler (and a tape drive) forever.
    std::chrono::seconds write_timeout{60};
    // Where the server reports problems that belong to no request (accept failures). Optional.
    std::function<void(std::string_view)> log;
  };

  // Who is on the other end, from SO_PEERCRED of the accepted socket: the kernel's word, never
  // anything the client sent.
  struct Caller {
    pid_t pid;
    uid_t uid;
    gid_t gid;
  };

  // Called on the connection's thread; must respond through the Responder (a handler that returns
  // without responding produces a 500). Exceptions are caught and answered with a 500.
  using Handler = std::function<void(const Request&, const Caller&, Responder&)>;

  struct Stats {
    std::uint64_t accepted = 0;       // connections accepted and served
    std::uint64_t rejected_busy = 0;  // connections answered 503 because of max_connections
    std::uint64_t requests = 0;       // requests handed to the handler
    std::size_t active = 0;           // connections open now
  };

  HttpServer(Options options, Handler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket and starts accepting. The caller must hold the DaemonLock of the directory
  // (daemon_lock.h): a socket file left by a dead daemon is removed, which is only safe when no
  // other daemon can be starting at the same time. A live socket, or a path that is not a socket,
  // is never removed (Conflict). The socket is chmod 0666: every local user may connect, and their
  // identity comes from peer credentials. A server is started at most once.
  Status start();

  // Stops accepting, shuts down every live connection (so blocked reads and writes return), joins
  // all threads and removes the socket file. Waits for running handlers to return; a streaming
  // handler sees its next write() fail. Idempotent and safe from any thread but a handler's own.
  void stop();

  Stats stats() const;
  const std::string& socket_path() const { return options_.socket_path; }

  // The request target as a std::string_view, for parse_query (Beast 1.74 uses boost::string_view).
  static std::string_view target(const Request& request);

 private:
  struct Connection {
    int fd = -1;  // -1 once the connection thread has closed it; guarded by mu_
    bool done = false;
    std::thread thread;
  };

  void accept_loop();
  void admit(int fd);
  void reject_busy(int fd);
  void serve(Connection* connection, Caller caller);
  void serve_requests(FdStream& stream, const Caller& caller);
  void reap_finished();
  void wake_accept_thread();
  void log(std::string_view message) const;

  const Options options_;
  const Handler handler_;

  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop() and finished connections wake the accept thread
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};

  std::mutex lifecycle_mu_;  // serializes start() and stop(); taken before mu_
  bool started_ = false;
  bool stopped_ = false;

  mutable std::mutex mu_;              // guards connections_, active_ and the counters below
  std::list<Connection> connections_;  // std::list: serve() holds a pointer to its element
  std::size_t active_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_busy_ = 0;
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace recall
