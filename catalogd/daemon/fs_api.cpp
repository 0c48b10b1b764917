#include "catalogd/daemon/fs_api.h"

#include <algorithm>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "catalogd/http/fs_wire.h"
#include "catalogd/store/meta_codec.h"

namespace recall::daemon {
namespace {

using http_status = boost::beast::http::status;

// The kernel's POSIX ACL xattr (include/uapi/linux/posix_acl_xattr.h): version 2, then
// (tag u16, perm u16, id u32) little-endian entries sorted by tag and id.
std::string acl_xattr(const std::vector<AclEntry>& acl, OwnerMap& owners) {
  struct Raw {
    std::uint16_t tag, perm;
    std::uint32_t id;
  };
  std::vector<Raw> raw;
  for (const auto& e : acl) {
    constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;
    switch (e.tag) {
      case AclEntry::Tag::UserObj:
        raw.push_back({0x01, e.perm, kUndefined});
        break;
      // A named entry whose owner cannot be mapped (name service down) is left out: it only
      // ever grants, and the kernel refuses an ACL naming id -1 outright.
      case AclEntry::Tag::User:
        if (auto id = owners.local_uid(e.id, e.name); id != kNoId) raw.push_back({0x02, e.perm, id});
        break;
      case AclEntry::Tag::GroupObj:
        raw.push_back({0x04, e.perm, kUndefined});
        break;
      case AclEntry::Tag::Group:
        if (auto id = owners.local_gid(e.id, e.name); id != kNoId) raw.push_back({0x08, e.perm, id});
        break;
      case AclEntry::Tag::Mask:
        raw.push_back({0x10, e.perm, kUndefined});
        break;
      case AclEntry::Tag::Other:
        raw.push_back({0x20, e.perm, kUndefined});
        break;
    }
  }
  std::sort(raw.begin(), raw.end(),
            [](const Raw& a, const Raw& b) { return std::tie(a.tag, a.id) < std::tie(b.tag, b.id); });
  std::string out;
  auto put = [&](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(2, 4);
  for (const auto& r : raw) {
    put(r.tag, 2);
    put(r.perm, 2);
    put(r.id, 4);
  }
  return out;
}

class WireBuilder {
 public:
  // `view`: the caller's view, so xattr values they could not read on the host are left out;
  // root (a root-run mount, whose kernel enforces the rest) sees them all.
  WireBuilder(store::CatalogReader& r, OwnerMap& owners, std::int64_t host_id, service::CatalogView& view)
      : r_(r), owners_(owners), host_id_(host_id), view_(view) {}

  // `seq` > 0: the entry as it is in that point (hard links grouped); 0: a version on its own.
  Result<fswire::Entry> entry(std::string name, const store::VersionRow& v, std::int64_t seq) {
    FileMeta m = v.meta;
    if (!view_.who().is_root()) {
      // As listxattr/getxattr on the host: trusted.* not at all, user.* names to anyone who
      // may look the file up but their values only to those who may read it.
      const bool readable = view_.may_read(m);
      std::erase_if(m.xattrs, [](const auto& x) { return x.first.starts_with("trusted."); });
      if (!readable)
        for (auto& [name, value] : m.xattrs)
          if (name.starts_with("user.")) value.clear();
    }
    fswire::Entry e;
    e.name = std::move(name);
    e.node_id = v.node_id;
    e.version_id = v.id;
    e.type = store::type_code(m.type);
    e.mode = m.mode;
    e.uid = owners_.local_uid(m.uid, m.user);
    e.gid = owners_.local_gid(m.gid, m.group);
    e.size = m.size;
    e.nlink = m.nlink;
    e.rdev = m.rdev;
    e.mtime_ns = m.mtime_ns;
    e.ctime_ns = m.ctime_ns;
    e.link_target = m.link_target;
    e.xattrs = m.xattrs;
    if (!m.acl.empty()) e.xattrs.emplace_back("system.posix_acl_access", acl_xattr(m.acl, owners_));
    if (!m.default_acl.empty())
      e.xattrs.emplace_back("system.posix_acl_default", acl_xattr(m.default_acl, owners_));
    if (seq > 0 && m.nlink > 1 && !is_dir(m)) {
      auto group = r_.link_group_node(host_id_, v, seq);
      if (!group.ok()) return group.error();
      e.link_node = *group;
    }
    return e;
  }

 private:
  store::CatalogReader& r_;
  OwnerMap& owners_;
  std::int64_t host_id_;
  service::CatalogView& view_;
};

// Node ids are global; a node of another host than the point asked about is no such node.
Status same_host(store::CatalogReader& r, std::int64_t node, std::int64_t host_id) {
  auto h = r.node_host(node);
  if (!h.ok()) return h.error();
  if (*h != host_id)
    return make_error(ErrorKind::NotFound, "no node " + std::to_string(node) + " on that host");
  return {};
}

Result<std::int64_t> id_arg(const Query& q, const char* name) {
  auto v = number(q, name, 0, INT64_MAX);
  if (!v.ok()) return v.error();
  if (*v == 0) return make_error(ErrorKind::Invalid, std::string("missing parameter '") + name + "'");
  return static_cast<std::int64_t>(*v);
}

void send_hosts(service::CatalogView& view, store::CatalogReader& r, Responder& out) {
  auto hosts = view.hosts();
  if (!hosts.ok()) return out.send_error(hosts.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& h : *hosts) {
    auto pts = r.points(h.id);
    if (!pts.ok()) return out.send_error(pts.error());
    nlohmann::json points = nlohmann::json::array();
    for (const auto& p : *pts) points.push_back({p.id, p.seq, p.at});
    list.push_back({{"id", h.id}, {"name", h.name}, {"root_node", h.root_node}, {"points", points}});
  }
  out.send(http_status::ok, {{"hosts", list}});
}

// Encoded directories of points, shared by all root-run mounts: points never change, so after
// the first traversal of a point a fresh mount lists it from memory instead of from SQLite
// (about 8 us per entry). Owners are mapped again after kTreeCacheSeconds, as the API does.
class TreeCache {
 public:
  struct Dir {
    std::string encoded;
    std::vector<store::VersionRow> subdirs;  // children that are directories, in name order
    std::size_t entries = 0;
  };
  std::shared_ptr<const Dir> get(std::int64_t point, std::int64_t node) {
    std::lock_guard lock(mu_);
    auto it = map_.find({point, node});
    if (it == map_.end()) return nullptr;
    if (now_utc() - it->second.stored > kTreeCacheSeconds) {
      drop(it);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.dir;
  }
  void put(std::int64_t point, std::int64_t node, std::shared_ptr<const Dir> d) {
    std::size_t size = d->encoded.size() + d->subdirs.size() * sizeof(store::VersionRow) + 128;
    std::lock_guard lock(mu_);
    Key key{point, node};
    if (map_.count(key)) return;
    lru_.push_front(key);
    map_.emplace(key, Slot{std::move(d), size, now_utc(), lru_.begin()});
    bytes_ += size;
    while (bytes_ > kTreeCacheBytes && !lru_.empty()) drop(map_.find(lru_.back()));
  }

 private:
  using Key = std::pair<std::int64_t, std::int64_t>;
  struct Slot {
    std::shared_ptr<const Dir> dir;
    std::size_t bytes;
    UnixTime stored;
    std::list<Key>::iterator lru;
  };
  void drop(std::map<Key, Slot>::iterator it) {
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    map_.erase(it);
  }
  static constexpr std::size_t kTreeCacheBytes = 256u << 20;
  static constexpr UnixTime kTreeCacheSeconds = 300;
  std::mutex mu_;
  std::map<Key, Slot> map_;
  std::list<Key> lru_;
  std::size_t bytes_ = 0;
};

TreeCache& tree_cache() {
  static TreeCache c;
  return c;
}

// A listing of a directory the caller may read but not search: names and types, nothing that
// a stat would show (which needs search permission).
std::string names_only(const std::string& encoded) {
  auto l = fswire::decode(encoded);
  std::string out;
  if (!l.ok() || l->size() != 1) return out;
  fswire::Listing& d = l->front();
  for (auto& c : d.children) {
    fswire::Entry bare;
    bare.name = std::move(c.name);
    bare.type = c.type;
    c = std::move(bare);
  }
  fswire::encode(out, d);
  return out;
}

// One name in a directory, for a caller who may search it but perhaps not list it.
void send_lookup(const Query& q, service::CatalogView& view, store::CatalogReader& r, OwnerMap& owners,
                 Responder& out) {
  auto point_id = id_arg(q, "point");
  auto node = id_arg(q, "node");
  auto name = need(q, "name");
  if (!point_id.ok()) return out.send_error(point_id.error());
  if (!node.ok()) return out.send_error(node.error());
  if (!name.ok()) return out.send_error(name.error());
  auto point = r.point_by_id(*point_id);
  if (!point.ok()) return out.send_error(point.error());
  if (!*point)
    return out.send_error(make_error(ErrorKind::NotFound, "no point " + std::to_string(*point_id)));
  const std::int64_t seq = (*point)->seq;
  if (auto s = same_host(r, *node, (*point)->host_id); !s.ok()) return out.send_error(s.error());
  auto dir = r.version_at(*node, seq);
  if (!dir.ok()) return out.send_error(dir.error());
  if (!*dir || !is_dir((*dir)->meta))
    return out.send_error(make_error(ErrorKind::NotFound, "no such directory"));
  auto x = view.may_at(*node, (*dir)->meta, seq, kExec);
  if (!x.ok()) return out.send_error(x.error());
  if (!*x) return out.send_error(make_error(ErrorKind::Denied, "permission denied"));
  auto child = r.child_at(*node, *name, seq);
  if (!child.ok()) return out.send_error(child.error());
  if (!*child) return out.send_error(make_error(ErrorKind::NotFound, "no " + *name));
  WireBuilder wire(r, owners, (*point)->host_id, view);
  fswire::Listing l;
  auto self = wire.entry("", **dir, seq);
  auto e = wire.entry(std::move((*child)->name), (*child)->version, seq);
  if (!self.ok()) return out.send_error(self.error());
  if (!e.ok()) return out.send_error(e.error());
  l.self = std::move(*self);
  l.children.push_back(std::move(*e));
  std::string body;
  fswire::encode(body, l);
  out.send_text(http_status::ok, "application/octet-stream", body);
}

void send_tree(const Query& q, service::CatalogView& view, store::CatalogReader& r, OwnerMap& owners,
               Responder& out) {
  auto point_id = id_arg(q, "point");
  auto node = id_arg(q, "node");
  auto budget = number(q, "budget", 0, 1 << 16);
  if (!point_id.ok()) return out.send_error(point_id.error());
  if (!node.ok()) return out.send_error(node.error());
  if (!budget.ok()) return out.send_error(budget.error());
  auto point = r.point_by_id(*point_id);
  if (!point.ok()) return out.send_error(point.error());
  if (!*point)
    return out.send_error(make_error(ErrorKind::NotFound, "no point " + std::to_string(*point_id)));
  const std::int64_t seq = (*point)->seq;
  if (auto s = same_host(r, *node, (*point)->host_id); !s.ok()) return out.send_error(s.error());
  auto first = r.version_at(*node, seq);
  if (!first.ok()) return out.send_error(first.error());
  if (!*first || !is_dir((*first)->meta))
    return out.send_error(
        make_error(ErrorKind::NotFound, "no directory " + std::to_string(*node) + " at that point"));

  WireBuilder wire(r, owners, (*point)->host_id, view);
  // Root sees every directory, so its listings can be shared; anyone else is judged per directory.
  const bool shared = view.who().is_root();
  auto list_dir = [&](const store::VersionRow& dir) -> Result<std::shared_ptr<const TreeCache::Dir>> {
    if (shared)
      if (auto hit = tree_cache().get((*point)->id, dir.node_id)) return hit;
    auto kids = r.children_at(dir.node_id, seq);
    if (!kids.ok()) return kids.error();
    auto d = std::make_shared<TreeCache::Dir>();
    fswire::Listing l;
    auto self = wire.entry("", dir, seq);
    if (!self.ok()) return self.error();
    l.self = std::move(*self);
    l.children.reserve(kids->size());
    for (auto& k : *kids) {
      auto e = wire.entry(std::move(k.name), k.version, seq);
      if (!e.ok()) return e.error();
      l.children.push_back(std::move(*e));
      if (is_dir(k.version.meta)) d->subdirs.push_back(std::move(k.version));
    }
    fswire::encode(d->encoded, l);
    d->entries = l.children.size();
    if (shared) tree_cache().put((*point)->id, dir.node_id, d);
    return std::shared_ptr<const TreeCache::Dir>(std::move(d));
  };

  std::deque<store::VersionRow> queue{std::move(**first)};
  std::string body;
  std::uint64_t listed = 0;
  bool requested = true;  // the first directory is the one asked for; the rest are prefetch
  while (!queue.empty()) {
    store::VersionRow dir = std::move(queue.front());
    queue.pop_front();
    bool searchable = true;
    if (!shared) {
      // As on the host: read lists names, search (x) shows what they are.
      auto readable = view.may_at(dir.node_id, dir.meta, seq, kRead);
      if (!readable.ok()) return out.send_error(readable.error());
      if (!*readable) {
        if (requested)
          return out.send_error(make_error(ErrorKind::Denied, "permission denied: cannot list it"));
        continue;
      }
      auto x = view.may_at(dir.node_id, dir.meta, seq, kExec);
      if (!x.ok()) return out.send_error(x.error());
      searchable = *x;
    }
    requested = false;
    auto d = list_dir(dir);
    if (!d.ok()) return out.send_error(d.error());
    if (searchable) {
      body += (*d)->encoded;
      for (const auto& sub : (*d)->subdirs) queue.push_back(sub);
    } else {
      body += names_only((*d)->encoded);
    }
    listed += (*d)->entries;
    if (listed >= *budget) break;
  }
  out.send_text(http_status::ok, "application/octet-stream", body);
}

void send_history(const Query& q, service::CatalogView& view, store::CatalogReader& r, OwnerMap& owners,
                  Responder& out) {
  auto host_name = need(q, "host");
  auto node = id_arg(q, "node");
  if (!host_name.ok()) return out.send_error(host_name.error());
  if (!node.ok()) return out.send_error(node.error());
  auto h = view.host(*host_name);
  if (!h.ok()) return out.send_error(h.error());
  if (auto s = same_host(r, *node, h->id); !s.ok()) return out.send_error(s.error());
  auto versions = view.versions_of_node(*h, *node);
  if (!versions.ok()) return out.send_error(versions.error());
  auto kids = view.history_children(h->id, *node);
  if (!kids.ok()) return out.send_error(kids.error());
  if (versions->empty() && kids->empty() && *node != h->root_node)
    return out.send_error(make_error(ErrorKind::NotFound, "nothing you may read there"));
  WireBuilder wire(r, owners, h->id, view);
  fswire::Listing l;
  l.self.node_id = *node;
  l.self.type = 'd';
  std::set<std::string> taken;
  for (const auto& v : *versions) {
    if (is_dir(v.version.meta)) continue;  // a directory's history is its children's
    auto e = wire.entry(format_utc(v.first_at), v.version, 0);
    if (!e.ok()) return out.send_error(e.error());
    taken.insert(e->name);
    l.children.push_back(std::move(*e));
  }
  for (auto& [name, child] : *kids) {
    if (taken.count(name)) continue;
    fswire::Entry e;
    e.name = std::move(name);
    e.node_id = child;
    e.type = 'd';
    l.children.push_back(std::move(e));
  }
  std::sort(l.children.begin(), l.children.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string body;
  fswire::encode(body, l);
  out.send_text(http_status::ok, "application/octet-stream", body);
}

// Where a file's bytes live, in words: "disk D000001 (online)", "tape R00042 copy 1, off-site".
std::string describe_locations(const std::vector<store::ChunkLocation>& chunks, const CopyWords& where_of) {
  std::set<std::string> where;
  for (const auto& c : chunks)
    for (const auto& copy : c.copies) where.insert(where_of(copy));
  std::string out;
  for (const auto& w : where) out += (out.empty() ? "" : "; ") + w;
  return out.empty() ? "no data (empty file)" : out;
}

void send_info(const Query& q, service::CatalogView& view, store::CatalogReader& r, const CopyWords& where,
               Responder& out) {
  auto id = id_arg(q, "version");
  if (!id.ok()) return out.send_error(id.error());
  auto v = r.version_by_id(*id);
  if (!v.ok()) return out.send_error(v.error());
  // Facts about a version only for those who could read it at one of its points: its path,
  // hash and location tell about its content. Others learn nothing, not even that it exists.
  auto readable = view.may_read_version(*v);
  if (!readable.ok()) return out.send_error(readable.error());
  if (!*readable) return out.send_error(make_error(ErrorKind::NotFound, "no version " + std::to_string(*id)));
  auto all = r.versions_of(v->node_id);
  if (!all.ok()) return out.send_error(all.error());
  std::size_t count = 0;
  for (const auto& other : *all) {
    auto ok = view.may_read_version(other);
    if (!ok.ok()) return out.send_error(ok.error());
    count += *ok;
  }
  auto path = r.node_path(v->node_id);
  if (!path.ok()) return out.send_error(path.error());
  nlohmann::json j = {{"versions", count}, {"path", *path}, {"first_seq", v->from_seq}};
  if (v->meta.type == FileType::Regular) {
    auto chunks = view.chunks_of(*v);
    if (!chunks.ok()) return out.send_error(chunks.error());
    j["location"] = describe_locations(*chunks, where);
    auto c = view.content_of(*v);
    if (!c.ok()) return out.send_error(c.error());
    if (c->whole_sha) j["sha256"] = to_hex(c->sha);
  }
  out.send(http_status::ok, j);
}

}  // namespace

void handle_fs(const std::string& path, const Query& q, service::CatalogView& view, store::CatalogReader& r,
               OwnerMap& owners, const CopyWords& where, Responder& out) {
  if (path == "/v1/fs/hosts") return send_hosts(view, r, out);
  if (path == "/v1/fs/tree") return send_tree(q, view, r, owners, out);
  if (path == "/v1/fs/lookup") return send_lookup(q, view, r, owners, out);
  if (path == "/v1/fs/history") return send_history(q, view, r, owners, out);
  if (path == "/v1/fs/info") return send_info(q, view, r, where, out);
  out.send_error(make_error(ErrorKind::NotFound, "no API route " + path));
}

}  // namespace recall::daemon
