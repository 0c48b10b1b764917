// recalld's data socket: the FUSE mount's fast read path. One JSON line in, one JSON line out,
// and with the answer optionally an open descriptor (SCM_RIGHTS) to a staged copy of a file,
// which the mount then reads at local-disk speed. Transport only: what a request means is the
// Handler's business (Api::handle_data).
//
// Protocol, any number of exchanges per connection, one at a time:
//   request  one JSON object on one line ending in "\n", at most max_request bytes
//   reply    one JSON object on one line ending in "\n": the handler's object, with "fd":true when
//            a descriptor is attached to the line's first byte; or on failure the error body of
//            http_errors.h, {"error":{"code","kind","message"}}, so the client rebuilds the ErrorKind.
// A line that is too long is answered with an error and the connection closed; a line that is not
// a JSON object is answered with an Invalid error. A client that hangs up or shuts down its side
// while its request runs cancels it: the handler's cancelled() turns true (so a client must not
// half-close after sending).
//
// Threading: one thread per connection, as in HttpServer: handlers block on volumes (and later on
// tape mounts), and each FUSE read that waits must not hold up the others.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "catalogd/http/http_server.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace recall::daemon {

class DataServer {
 public:
  using Caller = HttpServer::Caller;  // from SO_PEERCRED: the kernel's word
  // The reply object and, when valid, a descriptor to pass along with it (the server closes its
  // copy once sent). `cancelled()` is cheap (a poll with timeout 0) and may be called often.
  using Handler = std::function<Result<std::pair<nlohmann::json, UniqueFd>>(
      const Caller&, const nlohmann::json& request, const std::function<bool()>& cancelled)>;

  struct Options {
    std::string socket_path;
    std::size_t max_connections = 256;   // one thread each; beyond it a client gets an Io error
    std::size_t max_request = 64 << 10;  // bytes of one request line, without its "\n"
    // A connection that sends no (complete) request for this long is closed, so idle clients
    // cannot use up max_connections.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    // A client that accepts no byte of a reply for this long is dropped.
    std::chrono::seconds write_timeout{30};
    // Where the server reports problems that belong to no request (accept failures). Optional.
    std::function<void(std::string_view)> log;
  };

  struct Stats {
    std::uint64_t accepted = 0;       // connections served
    std::uint64_t rejected_busy = 0;  // connections refused because of max_connections
    std::uint64_t requests = 0;       // request lines read
    std::size_t active = 0;           // connections open now
  };

  DataServer(Options options, Handler handler);
  ~DataServer();  // stop()
  DataServer(const DataServer&) = delete;
  DataServer& operator=(const DataServer&) = delete;

  // Binds the socket (mode 0666; the caller holds the DaemonLock, see HttpServer::start) and
  // starts accepting. At most once.
  Status start();
  // Stops accepting, shuts down every connection (running handlers see cancelled() turn true),
  // joins all threads and removes the socket file. Idempotent; not from a handler.
  void stop();

  Stats stats() const;
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct Connection {
    int fd = -1;  // -1 once its thread closed it; guarded by mu_
    bool done = false;
    std::thread thread;
  };

  void accept_loop();
  void admit(int fd);
  void serve(Connection* connection, Caller caller);
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

  mutable std::mutex mu_;  // guards connections_ and the counters below
  std::list<Connection> connections_;
  std::size_t active_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_busy_ = 0;
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace recall::daemon
