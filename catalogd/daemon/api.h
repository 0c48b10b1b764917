// The HTTP API v1 of recalld: plain request -> response functions over the catalog, the job
// manager and the volumes. Transport (sockets, peer credentials) lives in catalogd/http.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>

#include "auth/identity.h"
#include "auth/owner_map.h"
#include "catalogd/daemon/content_stream.h"
#include "catalogd/daemon/import_jobs.h"
#include "catalogd/daemon/stager.h"
#include "catalogd/http/http_server.h"

namespace recall::daemon {

struct DaemonPaths {
  std::string home;
  std::string catalog;  // home/catalog.db
  std::string pool;     // home/pool
  std::string socket;   // home/recalld.sock
};
DaemonPaths paths_for(const std::string& home);
std::string data_socket_path(const DaemonPaths& paths);  // home/recalld-data.sock
std::string stage_dir(const DaemonPaths& paths);         // home/stage: staged copies (0700)

struct ApiConfig {
  std::string admin_group = "recall-admin";
  std::uint64_t stage_cache_mb = Stager::kDefaultCacheBytes >> 20;  // staged copies kept
  std::size_t stage_max_files = Stager::kDefaultMaxFiles;
};

class Api {
 public:
  Api(DaemonPaths paths, ApiConfig config);
  void handle(const HttpServer::Request& req, const HttpServer::Caller& caller, Responder& out);
  JobManager& jobs() { return jobs_; }
  // A request on the data socket (data_api.cpp, protocol in data_server.h).
  Result<std::pair<nlohmann::json, UniqueFd>> handle_data(const HttpServer::Caller& caller,
                                                          const nlohmann::json& request,
                                                          const std::function<bool()>& cancelled);

  // The header a root client (recall-fs) sets to ask on behalf of "UID GID".
  static constexpr const char* kOnBehalfHeader = "X-Recall-On-Behalf-Of";

 private:
  struct Counters {
    std::atomic<std::uint64_t> requests{0}, denied{0}, searches{0}, imports{0};
  };
  Result<Identity> identity_for_request(const HttpServer::Request& req, const HttpServer::Caller& caller);

  DaemonPaths paths_;
  ApiConfig config_;
  OwnerMap& owners_;
  JobManager jobs_;
  VolumeCache volumes_;
  StreamCounters stream_counters_;
  Stager stager_{stage_dir(paths_), config_.stage_cache_mb << 20, volumes_, stream_counters_,
                 config_.stage_max_files};
  Counters counters_;
  UnixTime started_;
  static constexpr UnixTime kOwnerCacheSeconds = 300;
  std::atomic<UnixTime> owners_cleared_{0};
};

}  // namespace recall::daemon
