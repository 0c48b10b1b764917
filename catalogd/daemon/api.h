// The HTTP API v1 of recalld: plain request -> response functions over the catalog, the job
// manager and the volumes. Transport (sockets, peer credentials) lives in catalogd/http.
#pragma once

#include <atomic>
#include <string>

#include "auth/owner_map.h"
#include "catalogd/daemon/content_stream.h"
#include "catalogd/daemon/import_jobs.h"
#include "catalogd/http/http_server.h"

namespace recall::daemon {

struct DaemonPaths {
  std::string home;
  std::string catalog;  // home/catalog.db
  std::string pool;     // home/pool
  std::string socket;   // home/recalld.sock
};
DaemonPaths paths_for(const std::string& home);

struct ApiConfig {
  std::string admin_group = "recall-admin";
};

class Api {
 public:
  Api(DaemonPaths paths, ApiConfig config);
  void handle(const HttpServer::Request& req, const HttpServer::Caller& caller, Responder& out);
  JobManager& jobs() { return jobs_; }

 private:
  struct Counters {
    std::atomic<std::uint64_t> requests{0}, denied{0}, searches{0}, imports{0};
  };
  DaemonPaths paths_;
  ApiConfig config_;
  OwnerMap& owners_;
  JobManager jobs_;
  VolumeCache volumes_;
  StreamCounters stream_counters_;
  Counters counters_;
  UnixTime started_;
  static constexpr UnixTime kOwnerCacheSeconds = 300;
  std::atomic<UnixTime> owners_cleared_{0};
};

}  // namespace recall::daemon
