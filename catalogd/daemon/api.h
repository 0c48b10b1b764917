// The HTTP API v1 of recalld: plain request -> response functions over the catalog, the job
// manager and the volumes. Transport (sockets, peer credentials) lives in catalogd/http.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "auth/identity.h"
#include "auth/owner_map.h"
#include "catalogd/daemon/content_stream.h"
#include "catalogd/daemon/import_jobs.h"
#include "catalogd/daemon/query_args.h"
#include "catalogd/daemon/stager.h"
#include "catalogd/daemon/tape_service.h"
#include "catalogd/http/http_server.h"
#include "catalogd/service/catalog_view.h"

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
  // `tape` may be null (tests of the disk-only paths): data only on tape is then Offline.
  Api(DaemonPaths paths, ApiConfig config, std::unique_ptr<TapeService> tape = nullptr);
  ~Api();
  void handle(const HttpServer::Request& req, const HttpServer::Caller& caller, Responder& out);
  JobManager& jobs() { return jobs_; }
  TapeService* tape() { return tape_.get(); }
  VolumeCache& volumes() { return volumes_; }
  // A request on the data socket (data_api.cpp, protocol in data_server.h).
  Result<std::pair<nlohmann::json, UniqueFd>> handle_data(const HttpServer::Caller& caller,
                                                          const nlohmann::json& request,
                                                          const std::function<bool()>& cancelled);

  // The header a root client (recall-fs) sets to ask on behalf of "UID GID".
  static constexpr const char* kOnBehalfHeader = "X-Recall-On-Behalf-Of";
  // How urgently a client wants content it asks for: interactive, restore (default) or prefetch.
  static constexpr const char* kPriorityHeader = "X-Recall-Priority";

 private:
  struct Counters {
    std::atomic<std::uint64_t> requests{0}, denied{0}, searches{0}, imports{0};
  };
  Result<Identity> identity_for_request(const HttpServer::Request& req, const HttpServer::Caller& caller);
  // Routes of the tape bridge (tape_api.cpp): volumes, queue, stage, estimate, migrations; false
  // when `path` is none of them.
  bool handle_tape(const std::string& path, const Query& q, const HttpServer::Request& req,
                   const Identity& who, service::CatalogView& view, store::CatalogReader& r, Responder& out);
  bool handle_tape_routes(const std::string& path, const Query& q, const HttpServer::Request& req,
                          const Identity& who, service::CatalogView& view, store::CatalogReader& r,
                          Responder& out);
  // A content read on behalf of `who`, for the tape bridge's queue.
  ReadRequest read_request(const Identity& who, tape::Priority priority, const std::string& host,
                           const std::string& path, std::int64_t content_id) const;
  // Requests from POST /v1/stage: nobody waits on them, so recalld holds their tickets.
  struct Detached {
    tape::StagingScheduler::Ticket ticket;
    std::uint32_t owner = 0;
    std::chrono::steady_clock::time_point until;
  };
  void prune_detached();

  DaemonPaths paths_;
  ApiConfig config_;
  OwnerMap& owners_;
  JobManager jobs_;
  VolumeCache volumes_;
  StreamCounters stream_counters_;
  std::unique_ptr<TapeService> tape_;
  ContentSource source_{volumes_, stream_counters_, tape_.get()};
  Stager stager_{stage_dir(paths_), config_.stage_cache_mb << 20, source_, stream_counters_,
                 config_.stage_max_files};
  std::mutex detached_mu_;
  std::map<std::uint64_t, Detached> detached_;
  Counters counters_;
  UnixTime started_;
  static constexpr UnixTime kOwnerCacheSeconds = 300;
  std::atomic<UnixTime> owners_cleared_{0};
};

}  // namespace recall::daemon
