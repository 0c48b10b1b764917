#include "fusefs/recall_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "catalogd/http/data_client.h"

namespace recall::fs {
namespace {

using Clock = std::chrono::steady_clock;

// Points never change: the kernel may keep what it learned about them for as long as it likes.
constexpr double kForever = 365.0 * 86400;
// A host's directory gains points as imports land.
constexpr double kHostLevel = 10.0;
// Answers that depend on who asks: never cached by the kernel (shared by all callers).
constexpr double kPerCaller = 0.0;
constexpr auto kHostsTtl = std::chrono::seconds(2);
// Asks as root (every host): for what is the same for all callers.
constexpr Caller kAnyone{0, 0};
constexpr auto kPerCallerTtl = std::chrono::seconds(5);

int errno_of(const Error& e) {
  switch (e.kind) {
    case ErrorKind::NotFound:
      return ENOENT;
    case ErrorKind::Denied:
      return EACCES;
    case ErrorKind::Offline:
      return EAGAIN;
    case ErrorKind::Timeout:
      return ETIMEDOUT;
    case ErrorKind::Invalid:
      return EINVAL;
    case ErrorKind::Cancelled:
      return EINTR;
    default:
      return EIO;
  }
}

Caller caller_of(fuse_req_t req) {
  const fuse_ctx* c = fuse_req_ctx(req);
  return {static_cast<std::uint32_t>(c->uid), static_cast<std::uint32_t>(c->gid)};
}

mode_t type_bits(char type) {
  switch (type) {
    case 'd':
      return S_IFDIR;
    case 'l':
      return S_IFLNK;
    case 'c':
      return S_IFCHR;
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    case 's':
      return S_IFSOCK;
    default:
      return S_IFREG;
  }
}

timespec ts_of(std::int64_t ns) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(ns / 1000000000);
  t.tv_nsec = static_cast<long>(ns % 1000000000);
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1000000000;
    t.tv_sec -= 1;
  }
  return t;
}

std::shared_ptr<const fswire::Entry> synthetic_dir() {
  static auto e = [] {
    auto d = std::make_shared<fswire::Entry>();
    d->type = 'd';
    d->mode = 0555;
    d->nlink = 2;
    return d;
  }();
  return e;
}

const fswire::Entry* find_child(const fswire::Listing& l, const std::string& name) {
  auto it = std::lower_bound(l.children.begin(), l.children.end(), name,
                             [](const fswire::Entry& e, const std::string& n) { return e.name < n; });
  return it != l.children.end() && it->name == name ? &*it : nullptr;
}

void reply_err(fuse_req_t req, const Error& e) { fuse_reply_err(req, errno_of(e)); }

}  // namespace

struct RecallFs::DirHandle {
  // A point's directory is read straight from its listing (cheap to open, nothing copied);
  // other directories are short and built when opened.
  std::shared_ptr<const fswire::Listing> listing;
  std::int64_t point = 0, host_id = 0;
  std::vector<DirItem> items;
  std::size_t size() const { return listing ? listing->children.size() : items.size(); }
};

struct RecallFs::OpenFile {
  std::int64_t version = 0;
  bool nonblock = false;
  std::mutex mu;  // one staging at a time; reads after it share the descriptor
  int fd = -1;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

RecallFs::RecallFs(FsOptions o)
    : o_(std::move(o)), link_(o_.socket, o_.speak_for_callers), listings_(o_.listing_cache_bytes) {
  clock_gettime(CLOCK_REALTIME, &mounted_at_);
}

RecallFs::~RecallFs() {
  {
    std::lock_guard lock(prefetch_mu_);
    stopping_ = true;
  }
  prefetch_cv_.notify_all();
  if (prefetcher_.joinable()) prefetcher_.join();
}

void RecallFs::prefetch_below(std::int64_t point, const std::vector<fswire::Listing>& fetched) {
  // Only while the cache has room: a prefetch must never evict what someone is using.
  if (listings_.bytes() > o_.listing_cache_bytes / 2) return;
  std::set<std::int64_t> listed;
  for (const auto& l : fetched) listed.insert(l.self.node_id);
  std::lock_guard lock(prefetch_mu_);
  constexpr std::size_t kMaxQueued = 4096;
  for (const auto& l : fetched)
    for (const auto& c : l.children)
      if (c.type == 'd' && !listed.count(c.node_id) && prefetch_.size() < kMaxQueued)
        prefetch_.emplace_back(point, c.node_id);
  if (!prefetcher_.joinable() && !prefetch_.empty()) prefetcher_ = std::thread([this] { prefetch_loop(); });
  prefetch_cv_.notify_one();
}

void RecallFs::prefetch_loop() {
  for (;;) {
    std::pair<std::int64_t, std::int64_t> next;
    {
      std::unique_lock lock(prefetch_mu_);
      prefetch_cv_.wait(lock, [&] { return stopping_ || !prefetch_.empty(); });
      if (stopping_) return;
      next = prefetch_.front();
      prefetch_.pop_front();
    }
    if (!listings_.get(next.first, next.second)) (void)listing(next.first, next.second, true);
  }
}

void RecallFs::init(fuse_conn_info* conn) {
  auto want = [&](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  want(FUSE_CAP_READDIRPLUS);
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;  // always hand out attributes with names
  want(FUSE_CAP_POSIX_ACL);                  // the kernel enforces the recorded ACLs
  want(FUSE_CAP_SPLICE_WRITE);               // reads go from the staged file to the kernel by splice
  want(FUSE_CAP_SPLICE_MOVE);
  want(FUSE_CAP_PARALLEL_DIROPS);
  // Synchronous reads: the first read of a file stages it, and only a read made in the reader's
  // own context can be interrupted (EINTR, staging withdrawn); readahead issued in the
  // background is never interrupted and would let a few slow files hold up everyone's reads.
  conn->want &= ~FUSE_CAP_ASYNC_READ;
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;  // files never change: keep their pages
  conn->max_readahead = conn->max_readahead ? std::max<unsigned>(conn->max_readahead, 1u << 20) : 1u << 20;
}

std::optional<Inode> RecallFs::inode(std::uint64_t ino) {
  if (ino == kRootIno || ino == kVersionsIno || ino == kSearchIno)
    return Inode{0, 0, {}, synthetic_dir(), {}, 0};
  switch (kind_of(ino)) {
    case Kind::Host: {
      std::lock_guard lock(mu_);
      auto it = host_by_id_.find(static_cast<std::int64_t>(id_of(ino)));
      if (it == host_by_id_.end()) return std::nullopt;
      return Inode{it->second.id, 0, it->second.name, synthetic_dir(), {}, 0};
    }
    case Kind::Latest: {
      std::lock_guard lock(mu_);
      auto it = host_by_id_.find(static_cast<std::int64_t>(id_of(ino)));
      if (it == host_by_id_.end() || it->second.points.empty()) return std::nullopt;
      auto e = std::make_shared<fswire::Entry>();
      e->type = 'l';
      e->mode = 0777;
      e->link_target = it->second.points.back().name;
      e->size = e->link_target.size();
      return Inode{it->second.id, 0, it->second.name, e, e->link_target, 0};
    }
    default:
      return nodes_.get(ino);
  }
}

struct stat RecallFs::attr_of(std::uint64_t ino, const Inode& n) const {
  struct stat st {};
  const fswire::Entry& e = n.entry ? *n.entry : *synthetic_dir();
  st.st_ino = ino;
  st.st_mode = type_bits(e.type) | (e.mode & 07777);
  st.st_nlink = static_cast<nlink_t>(e.nlink ? e.nlink : 1);
  st.st_uid = e.uid;
  st.st_gid = e.gid;
  st.st_size = static_cast<off_t>(e.type == 'l' ? e.link_target.size() : e.size);
  st.st_blksize = 128 * 1024;
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_rdev = static_cast<dev_t>(e.rdev);
  if (n.entry && (e.mtime_ns || e.ctime_ns)) {
    st.st_mtim = ts_of(e.mtime_ns);
    st.st_atim = st.st_mtim;
    st.st_ctim = ts_of(e.ctime_ns);
  } else {
    st.st_mtim = st.st_atim = st.st_ctim = mounted_at_;
  }
  return st;
}

void RecallFs::reply_entry(fuse_req_t req, const Found& f) {
  fuse_entry_param p{};
  p.ino = f.ino;
  p.attr = attr_of(f.ino, f.node);
  p.attr_timeout = f.timeout;
  p.entry_timeout = f.timeout;
  nodes_.remember(f.ino, f.node);
  if (fuse_reply_entry(req, &p) != 0) nodes_.forget(f.ino, 1);
}

// ---- what the daemon says, cached where that is safe ----

Result<RecallFs::HostList> RecallFs::hosts_for(const Caller& who) {
  auto key = std::make_pair(who.uid, who.gid);
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(key);
    if (it != hosts_.end() && Clock::now() - it->second.first < kHostsTtl) return it->second.second;
  }
  auto list = link_.hosts(who);
  if (!list.ok()) return list.error();
  auto shared = std::make_shared<const std::vector<HostInfo>>(std::move(*list));
  std::lock_guard lock(mu_);
  if (hosts_.size() > 1024) hosts_.clear();
  hosts_[key] = {Clock::now(), shared};
  for (const auto& h : *shared) host_by_id_[h.id] = h;
  return shared;
}

Result<const HostInfo*> RecallFs::host_named(const Caller& who, const std::string& name, HostList& keep) {
  auto list = hosts_for(who);
  if (!list.ok()) return list.error();
  keep = *list;
  for (const auto& h : *keep)
    if (h.name == name) return &h;
  return make_error(ErrorKind::NotFound, "no host " + name);
}

Result<std::shared_ptr<const fswire::Listing>> RecallFs::listing(std::int64_t point, std::int64_t node,
                                                                 bool traversal) {
  if (auto l = listings_.get(point, node)) return l;
  auto fetched = link_.tree(point, node, traversal ? o_.prefetch_entries : 0);
  if (!fetched.ok()) return fetched.error();
  if (fetched->empty()) return make_error(ErrorKind::Corrupt, "recalld sent an empty listing");
  if (traversal) prefetch_below(point, *fetched);
  std::shared_ptr<const fswire::Listing> first;
  for (auto& l : *fetched) {
    auto shared = std::make_shared<const fswire::Listing>(std::move(l));
    if (!first) first = shared;
    listings_.put(point, shared->self.node_id, shared);
  }
  return first;
}

Result<std::shared_ptr<const fswire::Listing>> RecallFs::history(const Caller& who, const std::string& host,
                                                                 std::int64_t node) {
  auto key = std::make_tuple(who.uid, who.gid, node);
  {
    std::lock_guard lock(mu_);
    auto it = histories_.find(key);
    if (it != histories_.end() && Clock::now() - it->second.first < kPerCallerTtl) return it->second.second;
  }
  auto l = link_.history(who, host, node);
  if (!l.ok()) return l.error();
  auto shared = std::make_shared<const fswire::Listing>(std::move(*l));
  std::lock_guard lock(mu_);
  if (histories_.size() > 256) histories_.clear();
  histories_[key] = {Clock::now(), shared};
  return shared;
}

Result<std::shared_ptr<const std::vector<SearchEntry>>> RecallFs::search(const Caller& who,
                                                                         const std::string& query) {
  auto key = std::make_tuple(who.uid, who.gid, query);
  {
    std::lock_guard lock(mu_);
    auto it = searches_.find(key);
    if (it != searches_.end() && Clock::now() - it->second.first < kPerCallerTtl) return it->second.second;
  }
  auto hits = link_.search(who, query, o_.search_limit);
  if (!hits.ok()) return hits.error();
  std::sort(hits->begin(), hits->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  auto shared = std::make_shared<const std::vector<SearchEntry>>(std::move(*hits));
  std::lock_guard lock(mu_);
  if (searches_.size() > 64) searches_.clear();
  searches_[key] = {Clock::now(), shared};
  return shared;
}

std::uint64_t RecallFs::dynamic_ino(Kind kind, std::map<std::string, std::uint64_t>& ids,
                                    const std::string& key) {
  std::lock_guard lock(mu_);
  auto [it, added] = ids.try_emplace(key, 0);
  if (added) it->second = ++next_dynamic_;  // never reused: a forgotten number stays unique
  return *make_ino(kind, it->second);
}

void RecallFs::forget(fuse_ino_t ino, std::uint64_t n) {
  auto gone = nodes_.forget(ino, n);
  // A query or search hit the kernel no longer holds: its number is not needed any more, so
  // the names one user tries cannot make the mount grow without bound.
  if (!gone || (kind_of(ino) != Kind::SearchDir && kind_of(ino) != Kind::SearchLink)) return;
  auto& ids = kind_of(ino) == Kind::SearchDir ? query_ids_ : link_ids_;
  std::lock_guard lock(mu_);
  auto it = ids.find(gone->target);
  if (it != ids.end() && it->second == id_of(ino)) ids.erase(it);
}

// ---- the tree ----

RecallFs::Found RecallFs::entry_found(std::int64_t point, std::int64_t host_id,
                                      std::shared_ptr<const fswire::Entry> e, double timeout) {
  Found f;
  f.timeout = timeout;
  f.node.point_id = point;
  f.node.host_id = host_id;
  std::optional<std::uint64_t> ino;
  if (e->type == 'd')
    ino = make_ino(Kind::Dir, static_cast<std::uint64_t>(point), static_cast<std::uint64_t>(e->node_id));
  else if (e->link_node)
    ino = make_ino(Kind::Linked, static_cast<std::uint64_t>(point), static_cast<std::uint64_t>(e->link_node));
  else
    ino = make_ino(Kind::Version, static_cast<std::uint64_t>(e->version_id));
  f.ino = ino.value_or(0);
  f.node.entry = std::move(e);
  return f;
}

Result<RecallFs::Found> RecallFs::child(const Caller& who, std::uint64_t parent, const Inode& dir,
                                        const std::string& name) {
  auto not_found = [&] { return make_error(ErrorKind::NotFound, name); };
  if (parent == kRootIno) {
    if (name == "@versions") return Found{kVersionsIno, *inode(kVersionsIno), kForever};
    if (name == "@search") return Found{kSearchIno, *inode(kSearchIno), kForever};
    // Any host can be looked up; only the listing of the root is per caller. Inside, the
    // kernel judges each point's root directory by its recorded mode, so a name someone
    // guesses shows them the times of its points and nothing else. Cheap for every path walk.
    HostList keep;
    auto h = host_named(kAnyone, name, keep);
    if (!h.ok()) return h.error();
    auto ino = *make_ino(Kind::Host, static_cast<std::uint64_t>((*h)->id));
    return Found{ino, *inode(ino), kHostLevel};
  }
  if (parent == kVersionsIno) {
    HostList keep;
    auto h = host_named(who, name, keep);
    if (!h.ok()) return h.error();
    Found f{*make_ino(Kind::History, static_cast<std::uint64_t>((*h)->root_node)), {}, kPerCaller};
    f.node.host_id = (*h)->id;
    f.node.host = (*h)->name;
    f.node.entry = synthetic_dir();
    return f;
  }
  if (parent == kSearchIno) {
    if (name.empty()) return not_found();
    Found f{dynamic_ino(Kind::SearchDir, query_ids_, name), {}, kPerCaller};
    f.node.entry = synthetic_dir();
    f.node.target = name;  // the query
    return f;
  }
  if (kind_of(parent) == Kind::Dir) {  // the hot path: a name inside a point
    auto point = static_cast<std::int64_t>(point_of(parent));
    auto l = listing(point, static_cast<std::int64_t>(node_of(parent)), false);
    if (!l.ok() && l.error().kind == ErrorKind::Denied) {
      // A directory the mount's user may search but not list (x without r): ask for the name.
      auto one = link_.lookup(point, static_cast<std::int64_t>(node_of(parent)), name);
      if (!one.ok()) return one.error();
      auto kept = std::make_shared<const fswire::Listing>(std::move(*one));
      return entry_found(point, dir.host_id,
                         std::shared_ptr<const fswire::Entry>(kept, &kept->children.front()), kForever);
    }
    if (!l.ok()) return l.error();
    const fswire::Entry* e = find_child(**l, name);
    if (!e) return not_found();
    if (!e->node_id) return make_error(ErrorKind::Denied, name);  // listed by name only (r without x)
    return entry_found(point, dir.host_id, std::shared_ptr<const fswire::Entry>(*l, e), kForever);
  }
  if (kind_of(parent) == Kind::Host && name != "latest") {
    HostList keep;
    auto h = host_named(kAnyone, dir.host, keep);
    if (!h.ok()) return h.error();
    for (const auto& p : (*h)->points) {
      if (p.name != name) continue;
      // The point's root directory: its attributes come with the first listing of it.
      auto l = listing(p.id, (*h)->root_node, false);
      if (!l.ok()) return l.error();
      return entry_found(p.id, (*h)->id, std::shared_ptr<const fswire::Entry>(*l, &(*l)->self), kHostLevel);
    }
    return not_found();
  }
  // Anything else is a short listing of some kind: one place decides what it holds.
  auto kids = children(who, parent, dir);
  if (!kids.ok()) return kids.error();
  for (auto& k : *kids) {
    if (k.name != name) continue;
    // Keyed by target: two long paths may be shortened to one name, never to one inode.
    if (kind_of(parent) == Kind::SearchDir)
      k.found.ino = dynamic_ino(Kind::SearchLink, link_ids_, k.found.node.target);
    return std::move(k.found);
  }
  return not_found();
}

Result<std::vector<RecallFs::DirItem>> RecallFs::children(const Caller& who, std::uint64_t ino,
                                                          const Inode& dir) {
  std::vector<DirItem> out;
  auto add = [&](std::string name, Found f, bool plus) {
    out.push_back({std::move(name), std::move(f), plus});
  };
  if (ino == kRootIno) {
    add("@search", {kSearchIno, *inode(kSearchIno), kPerCaller}, false);
    add("@versions", {kVersionsIno, *inode(kVersionsIno), kPerCaller}, false);
    auto hosts = hosts_for(who);
    if (!hosts.ok()) return hosts.error();
    for (const auto& h : **hosts) {
      auto hino = *make_ino(Kind::Host, static_cast<std::uint64_t>(h.id));
      add(h.name, {hino, {h.id, 0, h.name, synthetic_dir(), {}, 0}, kPerCaller}, false);
    }
    return out;
  }
  if (ino == kVersionsIno) {
    auto hosts = hosts_for(who);
    if (!hosts.ok()) return hosts.error();
    for (const auto& h : **hosts) {
      Found f{*make_ino(Kind::History, static_cast<std::uint64_t>(h.root_node)), {}, kPerCaller};
      f.node = {h.id, 0, h.name, synthetic_dir(), {}, 0};
      add(h.name, std::move(f), false);
    }
    return out;
  }
  if (ino == kSearchIno) return out;  // any name is a query; nothing to list
  switch (kind_of(ino)) {
    case Kind::Host: {
      HostList keep;
      auto h = host_named(kAnyone, dir.host, keep);
      if (!h.ok()) return h.error();
      if (!(*h)->points.empty()) {
        auto lino = *make_ino(Kind::Latest, static_cast<std::uint64_t>((*h)->id));
        auto latest = inode(lino);
        if (latest) add("latest", {lino, *latest, kHostLevel}, true);
      }
      for (const auto& p : (*h)->points) {
        // Named only: the kernel looks each point up when it needs its attributes.
        auto pino = make_ino(Kind::Dir, static_cast<std::uint64_t>(p.id),
                             static_cast<std::uint64_t>((*h)->root_node));
        add(p.name, {pino.value_or(0), {(*h)->id, p.id, {}, synthetic_dir(), {}, 0}, kHostLevel}, false);
      }
      return out;
    }
    case Kind::Dir: {
      auto l =
          listing(static_cast<std::int64_t>(point_of(ino)), static_cast<std::int64_t>(node_of(ino)), true);
      if (!l.ok()) return l.error();
      out.reserve((*l)->children.size());
      for (const auto& c : (*l)->children) {
        auto e = std::shared_ptr<const fswire::Entry>(*l, &c);
        add(c.name, entry_found(static_cast<std::int64_t>(point_of(ino)), dir.host_id, e, kForever), true);
      }
      return out;
    }
    case Kind::History: {
      auto l = history(who, dir.host, static_cast<std::int64_t>(id_of(ino)));
      if (!l.ok()) return l.error();
      for (const auto& c : (*l)->children) {
        auto e = std::shared_ptr<const fswire::Entry>(*l, &c);
        if (c.version_id == 0) {  // a name below: another history directory
          Found f{*make_ino(Kind::History, static_cast<std::uint64_t>(c.node_id)), {}, kPerCaller};
          f.node = {dir.host_id, 0, dir.host, synthetic_dir(), {}, 0};
          add(c.name, std::move(f), false);
        } else {
          add(c.name, entry_found(0, dir.host_id, e, kPerCaller), false);
        }
      }
      return out;
    }
    case Kind::SearchDir: {
      auto hits = search(who, dir.target);
      if (!hits.ok()) return hits.error();
      for (const auto& h : **hits) {
        auto e = std::make_shared<fswire::Entry>();
        e->type = 'l';
        e->mode = 0777;
        e->link_target = h.target;
        e->size = h.target.size();
        Found f{0, {}, kPerCaller};  // numbered when looked up (child()), not for every listed hit
        f.node.entry = e;
        f.node.target = h.target;
        add(h.name, std::move(f), false);
      }
      return out;
    }
    default:
      return make_error(ErrorKind::Invalid, "not a directory");
  }
}

// ---- operations ----

void RecallFs::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto dir = inode(parent);
  if (!dir) return (void)fuse_reply_err(req, ESTALE);
  auto f = child(caller_of(req), parent, *dir, name);
  if (!f.ok()) {
    if (f.error().kind == ErrorKind::NotFound) {
      // Inside a point a missing name stays missing: let the kernel remember that.
      fuse_entry_param p{};
      p.entry_timeout = kind_of(parent) == Kind::Dir ? kForever : kPerCaller;
      return (void)fuse_reply_entry(req, &p);
    }
    return reply_err(req, f.error());
  }
  if (f->ino == 0) return (void)fuse_reply_err(req, EOVERFLOW);
  reply_entry(req, *f);
}

void RecallFs::getattr(fuse_req_t req, fuse_ino_t ino) {
  auto n = inode(ino);
  if (!n) return (void)fuse_reply_err(req, ESTALE);
  // The fixed directories look the same to everyone (0555, root); only their listings differ.
  bool per_caller =
      kind_of(ino) == Kind::History || kind_of(ino) == Kind::SearchDir || kind_of(ino) == Kind::SearchLink;
  struct stat st = attr_of(ino, *n);
  fuse_reply_attr(req, &st, per_caller ? kPerCaller : kind_of(ino) == Kind::Latest ? kHostLevel : kForever);
}

void RecallFs::readlink(fuse_req_t req, fuse_ino_t ino) {
  auto n = inode(ino);
  if (!n || !n->entry || n->entry->type != 'l') return (void)fuse_reply_err(req, n ? EINVAL : ESTALE);
  fuse_reply_readlink(req, n->entry->link_target.c_str());
}

void RecallFs::opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto n = inode(ino);
  if (!n) return (void)fuse_reply_err(req, ESTALE);
  auto h = std::make_unique<DirHandle>();
  if (kind_of(ino) == Kind::Dir) {
    auto l = listing(static_cast<std::int64_t>(point_of(ino)), static_cast<std::int64_t>(node_of(ino)), true);
    if (!l.ok()) return reply_err(req, l.error());
    h->listing = std::move(*l);
    h->point = static_cast<std::int64_t>(point_of(ino));
    h->host_id = n->host_id;
    fi->cache_readdir = 1;  // a point's directory never changes: the kernel may keep the listing
    fi->keep_cache = 1;
  } else {
    auto kids = children(caller_of(req), ino, *n);
    if (!kids.ok()) return reply_err(req, kids.error());
    h->items = std::move(*kids);
  }
  fi->fh = reinterpret_cast<std::uint64_t>(h.release());
  if (fuse_reply_open(req, fi) != 0) delete reinterpret_cast<DirHandle*>(fi->fh);
}

void RecallFs::readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
                       bool plus) {
  auto* h = reinterpret_cast<DirHandle*>(fi->fh);
  std::vector<char> buf(size);
  size_t used = 0;
  // Offsets: 1 and 2 are "." and "..", then n + 3 is after items[n].
  DirItem from_listing;
  for (auto i = static_cast<std::size_t>(off); i < h->size() + 2; ++i) {
    size_t need;
    char* at = buf.data() + used;
    size_t room = size - used;
    if (i < 2) {
      struct stat st {};
      st.st_ino = i == 0 ? ino : kRootIno;
      st.st_mode = S_IFDIR;
      const char* dot = i == 0 ? "." : "..";
      if (plus) {
        fuse_entry_param p{};
        p.attr = st;
        need = fuse_add_direntry_plus(req, at, room, dot, &p, static_cast<off_t>(i + 1));
      } else {
        need = fuse_add_direntry(req, at, room, dot, &st, static_cast<off_t>(i + 1));
      }
    } else {
      const DirItem* itemp = &from_listing;
      if (h->listing) {
        const auto& c = h->listing->children[i - 2];
        from_listing.name = c.name;
        from_listing.found =
            entry_found(h->point, h->host_id, std::shared_ptr<const fswire::Entry>(h->listing, &c), kForever);
        from_listing.plus = true;
      } else {
        itemp = &h->items[i - 2];
      }
      const DirItem& item = *itemp;
      struct stat st = attr_of(item.found.ino, item.found.node);
      if (plus && item.plus && item.found.ino) {
        fuse_entry_param p{};
        p.ino = item.found.ino;
        p.attr = st;
        p.attr_timeout = p.entry_timeout = item.found.timeout;
        need = fuse_add_direntry_plus(req, at, room, item.name.c_str(), &p, static_cast<off_t>(i + 1));
        if (need <= room) nodes_.remember(item.found.ino, item.found.node);
      } else if (plus) {
        fuse_entry_param p{};  // ino 0: the kernel looks it up itself, as the caller
        // A name listed without what it is (read without search) still needs a d_ino: 0 would
        // mark a deleted entry, which readdir(3) users skip.
        p.attr.st_ino = st.st_ino ? st.st_ino : (std::hash<std::string>{}(item.name) | 1);
        p.attr.st_mode = st.st_mode;
        need = fuse_add_direntry_plus(req, at, room, item.name.c_str(), &p, static_cast<off_t>(i + 1));
      } else {
        if (!st.st_ino) st.st_ino = std::hash<std::string>{}(item.name) | 1;
        need = fuse_add_direntry(req, at, room, item.name.c_str(), &st, static_cast<off_t>(i + 1));
      }
    }
    if (need > room) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void RecallFs::releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<DirHandle*>(fi->fh);
  fuse_reply_err(req, 0);
}

void RecallFs::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto n = inode(ino);
  if (!n) return (void)fuse_reply_err(req, ESTALE);
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
  if (!n->entry || n->entry->type != 'f' || !n->entry->version_id) return (void)fuse_reply_err(req, EINVAL);
  auto f = std::make_unique<OpenFile>();
  f->version = n->entry->version_id;
  f->nonblock = fi->flags & O_NONBLOCK;
  fi->keep_cache = 1;  // the same version always has the same bytes
  fi->fh = reinterpret_cast<std::uint64_t>(f.release());
  if (fuse_reply_open(req, fi) != 0) delete reinterpret_cast<OpenFile*>(fi->fh);
}

void RecallFs::read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto* f = reinterpret_cast<OpenFile*>(fi->fh);
  int fd;
  {
    std::lock_guard lock(f->mu);
    if (f->fd < 0) {
      // The bytes are staged (verified) by recalld on the first read, not at open: `ls`,
      // `stat` and `file -L` stay cheap, and O_NONBLOCK has something to mean.
      DataClient client(o_.data_socket);
      fuse_req_interrupt_func(
          req, [](fuse_req_t, void* c) { static_cast<DataClient*>(c)->abort(); }, &client);
      // Whom the read is for: a staging from tape counts against that user's share of the drives.
      const fuse_ctx* who = fuse_req_ctx(req);
      auto r = client.call({{"op", "open"},
                            {"version", f->version},
                            {"nonblock", f->nonblock},
                            {"uid", static_cast<std::int64_t>(who->uid)},
                            {"gid", static_cast<std::int64_t>(who->gid)}});
      fuse_req_interrupt_func(req, nullptr, nullptr);
      if (!r.ok()) {
        // Data that waits for a tape: EAGAIN for a non-blocking reader. A blocking read waits while
        // recalld stages it; if recalld cannot (no tape library), "no medium".
        if (r.error().kind == ErrorKind::Offline && !f->nonblock) return (void)fuse_reply_err(req, ENOMEDIUM);
        return reply_err(req, r.error());
      }
      if (!r->fd) return (void)fuse_reply_err(req, EIO);
      f->fd = r->fd.release();
      // Readers go front to back: let the kernel read the staged copy further ahead of them.
      (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    fd = f->fd;
  }
  fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
  buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  buf.buf[0].fd = fd;
  buf.buf[0].pos = off;
  fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void RecallFs::release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<OpenFile*>(fi->fh);
  fuse_reply_err(req, 0);
}

void RecallFs::getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto n = inode(ino);
  if (!n) return (void)fuse_reply_err(req, ESTALE);
  std::string value;
  bool found = false;
  std::string_view want(name);
  if (n->entry) {
    for (const auto& [k, v] : n->entry->xattrs)
      if (k == want) {
        value = v;
        found = true;
      }
  }
  constexpr std::string_view kOurs = "user.recall.";
  if (!found && want == "user.recall.staging" && n->entry && n->entry->type == 'f' && n->entry->version_id) {
    // Where a read of this file stands if it waits for a tape: "Waiting for tape R00042 - 2nd in
    // queue, about 40 s". Asked afresh each time (the kernel caches no xattrs of ours).
    auto s = link_.staging(caller_of(req), n->entry->version_id);
    if (!s.ok()) return reply_err(req, s.error());
    value = s->value("words", "");
    found = true;
  }
  if (!found && want.starts_with(kOurs) && n->entry && n->entry->version_id) {
    // Facts about the backup rather than the file: asked for, never listed, so `cp -a` and
    // `rsync -X` copy the file as it was.
    auto info = link_.info(caller_of(req), n->entry->version_id);
    if (!info.ok()) return reply_err(req, info.error());
    std::string key(want.substr(kOurs.size()));
    if (info->contains(key)) {
      const auto& j = (*info)[key];
      value = j.is_string() ? j.get<std::string>() : j.dump();
      found = true;
    }
  }
  if (!found) return (void)fuse_reply_err(req, ENODATA);
  if (size == 0) return (void)fuse_reply_xattr(req, value.size());
  if (size < value.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, value.data(), value.size());
}

void RecallFs::listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto n = inode(ino);
  if (!n) return (void)fuse_reply_err(req, ESTALE);
  std::string names;
  // As on the host, trusted.* names are listed to root only (the kernel hides their values
  // itself, but not their names). Lists are never cached by the kernel, so this may differ.
  const bool root = fuse_req_ctx(req)->uid == 0;
  if (n->entry)
    for (const auto& [k, v] : n->entry->xattrs)
      if (root || !k.starts_with("trusted.")) names.append(k).push_back('\0');
  if (size == 0) return (void)fuse_reply_xattr(req, names.size());
  if (size < names.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, names.data(), names.size());
}

void RecallFs::statfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs s {};
  s.f_bsize = 4096;
  s.f_frsize = 4096;
  s.f_namemax = 255;
  fuse_reply_statfs(req, &s);
}

// ---- trampolines ----

namespace {
RecallFs& self(fuse_req_t req) { return *static_cast<RecallFs*>(fuse_req_userdata(req)); }
}  // namespace

const fuse_lowlevel_ops& RecallFs::ops() {
  static const fuse_lowlevel_ops o = [] {
    fuse_lowlevel_ops x{};
    x.init = [](void* u, fuse_conn_info* c) { static_cast<RecallFs*>(u)->init(c); };
    x.lookup = [](fuse_req_t r, fuse_ino_t p, const char* n) { self(r).lookup(r, p, n); };
    x.forget = [](fuse_req_t r, fuse_ino_t i, uint64_t n) {
      self(r).forget(i, n);
      fuse_reply_none(r);
    };
    x.forget_multi = [](fuse_req_t r, size_t count, fuse_forget_data* f) {
      for (size_t k = 0; k < count; ++k) self(r).forget(f[k].ino, f[k].nlookup);
      fuse_reply_none(r);
    };
    x.getattr = [](fuse_req_t r, fuse_ino_t i, fuse_file_info*) { self(r).getattr(r, i); };
    x.readlink = [](fuse_req_t r, fuse_ino_t i) { self(r).readlink(r, i); };
    x.opendir = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) { self(r).opendir(r, i, fi); };
    x.readdir = [](fuse_req_t r, fuse_ino_t i, size_t s, off_t o, fuse_file_info* fi) {
      self(r).readdir(r, i, s, o, fi, false);
    };
    x.readdirplus = [](fuse_req_t r, fuse_ino_t i, size_t s, off_t o, fuse_file_info* fi) {
      self(r).readdir(r, i, s, o, fi, true);
    };
    x.releasedir = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) { self(r).releasedir(r, i, fi); };
    x.open = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) { self(r).open(r, i, fi); };
    x.read = [](fuse_req_t r, fuse_ino_t i, size_t s, off_t o, fuse_file_info* fi) {
      self(r).read(r, i, s, o, fi);
    };
    x.release = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) { self(r).release(r, i, fi); };
    x.getxattr = [](fuse_req_t r, fuse_ino_t i, const char* n, size_t s) { self(r).getxattr(r, i, n, s); };
    x.listxattr = [](fuse_req_t r, fuse_ino_t i, size_t s) { self(r).listxattr(r, i, s); };
    x.statfs = [](fuse_req_t r, fuse_ino_t i) { self(r).statfs(r, i); };
    return x;
  }();
  return o;
}

}  // namespace recall::fs
