// The client side of recalld's data socket (catalogd/daemon/data_server.h): one JSON request, one
// JSON reply, and with it possibly an open descriptor, e.g. to a staged, verified copy of a file
// that recall-fs then reads with pread.
//
// Thread-safe: calls from several threads run side by side, each on its own connection (one per
// call). abort() is meant for one request that may be interrupted (a FUSE read): give each such
// request its own DataClient, they are cheap.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace recall {

struct DataReply {
  nlohmann::json body;  // the reply object ("fd":true when `fd` came with it)
  UniqueFd fd;          // close-on-exec; invalid when the reply carried none
};

class DataClient {
 public:
  explicit DataClient(std::string socket_path);
  DataClient(const DataClient&) = delete;
  DataClient& operator=(const DataClient&) = delete;

  // Sends `request` (a JSON object) and waits for the reply, without a time limit: opening a file
  // whose data is on tape waits for the cartridge. An error reply comes back as the Error recalld
  // sent (same ErrorKind and message). Failing to connect is Io, naming the socket and saying
  // recalld does not run there. After abort(): Cancelled.
  Result<DataReply> call(const nlohmann::json& request);

  // From any thread: every call() in progress returns Cancelled promptly, and so does every later
  // one. recalld sees the connection shut down, so the request's work is withdrawn unless someone
  // else waits for it too.
  void abort();
  bool aborted() const;

  const std::string& socket_path() const { return socket_path_; }

 private:
  Error cancelled() const;

  const std::string socket_path_;
  mutable std::mutex mu_;
  bool aborted_ = false;
  std::set<int> live_;  // sockets of calls in progress, for abort()
};

}  // namespace recall
