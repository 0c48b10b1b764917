// What recall-fs asks recalld, in the mount's terms. One HTTP connection per FUSE worker
// thread (a transport carries one request at a time); a broken connection is reopened on the
// next call, so a restarted daemon is picked up without remounting.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalogd/http/fs_wire.h"
#include "common/result.h"
#include "common/time.h"

namespace recall::fs {

// The process that made a request, as the kernel tells the mount.
struct Caller {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct PointInfo {
  std::int64_t id = 0;
  std::int64_t seq = 0;
  UnixTime at = 0;
  std::string name;  // its directory name: the UTC time, ISO 8601
};

struct HostInfo {
  std::int64_t id = 0;
  std::string name;
  std::int64_t root_node = 0;
  std::vector<PointInfo> points;  // oldest first
};

struct SearchEntry {
  std::string name;    // the entry's name in @search/QUERY
  std::string target;  // relative symlink target into the mount
};

class DaemonLink {
 public:
  // `speak_for_callers`: send the caller's ids with caller-dependent requests (a root mount
  // serving every user); a mount of one user asks as that user.
  DaemonLink(std::string socket, bool speak_for_callers);

  Result<nlohmann::json> whoami();
  Result<std::vector<HostInfo>> hosts(const Caller& who);
  // Directory `node` at `point`, then more below it breadth first up to `budget` entries.
  Result<std::vector<fswire::Listing>> tree(std::int64_t point, std::int64_t node, std::uint32_t budget);
  // One name in directory `node` at `point` (for a directory the mount's user may search but
  // not list: only a root mount sees every listing).
  Result<fswire::Listing> lookup(std::int64_t point, std::int64_t node, const std::string& name);
  Result<fswire::Listing> history(const Caller& who, const std::string& host, std::int64_t node);
  Result<nlohmann::json> info(const Caller& who, std::int64_t version);
  // Where the staging of a version's content stands ({"state","words"}): user.recall.staging.
  Result<nlohmann::json> staging(const Caller& who, std::int64_t version);
  Result<std::vector<SearchEntry>> search(const Caller& who, const std::string& query, std::size_t limit);

  const std::string& socket() const { return socket_; }

 private:
  Result<nlohmann::json> get_json(const Caller* who, const std::string& target);
  Result<std::string> get_bytes(const Caller* who, const std::string& target);

  std::string socket_;
  bool speak_for_callers_;
};

}  // namespace recall::fs
