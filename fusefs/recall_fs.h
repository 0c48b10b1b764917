// recall-fs: the catalog as a read-only filesystem (libfuse3 low-level API).
//
//   MOUNT/HOST/POINT/...      a host's tree at one point (POINT = UTC time, ISO 8601)
//   MOUNT/HOST/latest         symlink to the newest point
//   MOUNT/@versions/HOST/P/   every version of path P the caller may read, named by when it appeared
//   MOUNT/@search/QUERY/      the caller's matches, as symlinks into their points
//
// Inside points the answers are the same for every caller (mapped owners, modes and ACLs) and
// the kernel enforces them (default_permissions), so they are cached for a long time. The
// root, @versions and @search depend on who asks and are never cached across callers.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "fusefs/daemon_link.h"
#include "fusefs/node_table.h"

namespace recall::fs {

struct FsOptions {
  std::string socket;              // recalld's API socket
  std::string data_socket;         // where recalld hands out staged files (from /v1/whoami)
  bool speak_for_callers = false;  // root mount: ask recalld as the calling user
  std::size_t listing_cache_bytes = 24u << 20;
  std::uint32_t prefetch_entries = 4096;  // listed ahead per directory fetch
  std::size_t search_limit = 1000;
};

class RecallFs {
 public:
  explicit RecallFs(FsOptions o);
  static const fuse_lowlevel_ops& ops();

  // Called by the fuse_lowlevel_ops trampolines.
  void init(fuse_conn_info* conn);
  void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void forget(fuse_ino_t ino, std::uint64_t n);
  void getattr(fuse_req_t req, fuse_ino_t ino);
  void readlink(fuse_req_t req, fuse_ino_t ino);
  void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus);
  void releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
  void release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
  void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  void statfs(fuse_req_t req, fuse_ino_t ino);

 private:
  struct Found {  // a name resolved to an inode
    std::uint64_t ino = 0;
    Inode node;
    double timeout = 0;  // entry and attribute timeout
  };
  struct DirItem {
    std::string name;
    Found found;
    bool plus = true;  // false: the kernel must look it up itself (answers per caller)
  };
  struct DirHandle;
  struct OpenFile;
  using HostList = std::shared_ptr<const std::vector<HostInfo>>;

  Result<HostList> hosts_for(const Caller& who);
  Result<const HostInfo*> host_named(const Caller& who, const std::string& name, HostList& keep);
  // `traversal`: a directory being read (opendir), so list ahead below it; otherwise a name
  // being looked up on some path, which needs this directory only.
  Result<std::shared_ptr<const fswire::Listing>> listing(std::int64_t point, std::int64_t node,
                                                         bool traversal);
  Result<std::shared_ptr<const fswire::Listing>> history(const Caller& who, const std::string& host,
                                                         std::int64_t node);
  Result<std::shared_ptr<const std::vector<SearchEntry>>> search(const Caller& who, const std::string& query);
  // The number of a per-caller name (a query, a search hit by its target), kept while the
  // kernel holds it.
  std::uint64_t dynamic_ino(Kind kind, std::map<std::string, std::uint64_t>& ids, const std::string& key);

  // The children of a directory inode as the caller sees them.
  Result<std::vector<DirItem>> children(const Caller& who, std::uint64_t ino, const Inode& dir);
  Result<Found> child(const Caller& who, std::uint64_t parent, const Inode& dir, const std::string& name);
  Found entry_found(std::int64_t point, std::int64_t host_id, std::shared_ptr<const fswire::Entry> e,
                    double timeout);
  std::optional<Inode> inode(std::uint64_t ino);
  struct stat attr_of(std::uint64_t ino, const Inode& n) const;
  void reply_entry(fuse_req_t req, const Found& f);

  // Lists ahead on a second thread what the last listings pointed at, so recalld's queries
  // for the next directories overlap with the kernel and the tool using the current ones.
  void prefetch_below(std::int64_t point, const std::vector<fswire::Listing>& fetched);
  void prefetch_loop();

  FsOptions o_;
  DaemonLink link_;
  NodeTable nodes_;
  ListingCache listings_;

  std::mutex mu_;  // guards the per-caller caches below
  std::map<std::pair<std::uint32_t, std::uint32_t>,
           std::pair<std::chrono::steady_clock::time_point, HostList>>
      hosts_;
  std::map<std::int64_t, HostInfo> host_by_id_;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::string>,
           std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<const std::vector<SearchEntry>>>>
      searches_;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::int64_t>,
           std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<const fswire::Listing>>>
      histories_;
  std::map<std::string, std::uint64_t> query_ids_;  // query -> number
  std::map<std::string, std::uint64_t> link_ids_;   // search hit's target -> number
  std::uint64_t next_dynamic_ = 0;
  struct timespec mounted_at_ {};

  std::mutex prefetch_mu_;
  std::condition_variable prefetch_cv_;
  std::deque<std::pair<std::int64_t, std::int64_t>> prefetch_;  // (point, directory node)
  bool stopping_ = false;
  std::thread prefetcher_;

 public:
  ~RecallFs();
};

}  // namespace recall::fs
