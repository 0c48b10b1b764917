#include "catalogd/service/catalog_view.h"

#include "catalogd/store/schema.h"
#include "common/paths.h"

namespace recall::service {

Result<std::vector<store::HostRow>> CatalogView::hosts() {
  auto all = r_.hosts();
  if (!all.ok() || who_.is_root()) return all;
  std::vector<store::HostRow> out;
  for (auto& h : *all) {
    // Newest first: usually the answer comes from the first point looked at.
    for (std::int64_t seq = h.points; seq >= 1; --seq) {
      auto x = may_search_dir(h.root_node, seq);
      if (!x.ok()) return x.error();
      if (*x) {
        out.push_back(std::move(h));
        break;
      }
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> CatalogView::history_children(std::int64_t host_id,
                                                                                        std::int64_t dir) {
  auto pts = host_points(host_id);
  if (!pts.ok()) return pts.error();
  auto newest = static_cast<std::int64_t>((*pts)->size());
  auto kids = r_.child_nodes(dir);
  if (!kids.ok() || who_.is_root()) return kids;
  // Points where the caller could list `dir`, judged once per point.
  std::vector<bool> listable(static_cast<std::size_t>(newest + 1), false);
  for (std::int64_t seq = 1; seq <= newest; ++seq) {
    auto v = r_.version_at(dir, seq);
    if (!v.ok()) return v.error();
    if (!*v || !is_dir((*v)->meta)) continue;
    auto ok = may(dir, (*v)->meta, seq, kRead);
    if (!ok.ok()) return ok.error();
    listable[static_cast<std::size_t>(seq)] = *ok;
  }
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (auto& [name, node] : *kids) {
    auto vs = r_.versions_of(node);
    if (!vs.ok()) return vs.error();
    bool seen = false;
    for (const auto& v : *vs) {
      for (std::int64_t seq = v.from_seq; seq <= std::min(v.to_seq, newest) && !seen; ++seq)
        seen = listable[static_cast<std::size_t>(seq)];
      if (seen) break;
    }
    if (seen) out.emplace_back(std::move(name), node);
  }
  return out;
}

Result<store::HostRow> CatalogView::host(const std::string& name) {
  auto h = r_.host(name);
  if (!h.ok()) return h.error();
  if (!*h)
    return make_error(ErrorKind::NotFound,
                      "no host '" + escape_for_display(name) + "' in the catalog (see: recall hosts)");
  return **h;
}

Result<std::vector<store::PointRow>> CatalogView::points(const std::string& name) {
  auto h = host(name);
  if (!h.ok()) return h.error();
  return r_.points(h->id);
}

Result<store::PointRow> CatalogView::point(const store::HostRow& h, UnixTime at) {
  auto p = r_.point_at(h.id, at);
  if (!p.ok()) return p.error();
  if (!*p)
    return make_error(ErrorKind::NotFound, "host " + h.name + " has no point at or before " + format_utc(at) +
                                               " (its first is " + format_utc(h.first_at) + ")");
  return **p;
}

Result<bool> CatalogView::may_search_dir(std::int64_t node_id, std::int64_t seq) {
  auto key = std::make_pair(node_id, seq);
  if (auto it = dir_search_cache_.find(key); it != dir_search_cache_.end()) return it->second;
  auto v = r_.version_at(node_id, seq);
  if (!v.ok()) return v.error();
  bool ok = *v && is_dir((*v)->meta) && permits(who_, (*v)->meta, kExec, owners_);
  if (dir_search_cache_.size() > 100000) dir_search_cache_.clear();
  dir_search_cache_.emplace(key, ok);
  return ok;
}

Result<bool> CatalogView::may_reach(std::int64_t node_id, std::int64_t seq) {
  if (who_.is_root()) return true;
  auto chain = r_.ancestors(node_id);
  if (!chain.ok()) return chain.error();
  for (std::int64_t dir : *chain) {
    auto x = may_search_dir(dir, seq);
    if (!x.ok()) return x.error();
    if (!*x) return false;
  }
  return true;
}

Result<bool> CatalogView::may(std::int64_t node_id, const FileMeta& meta, std::int64_t seq, int want) {
  auto reach = may_reach(node_id, seq);
  if (!reach.ok() || !*reach) return reach;
  return who_.is_root() || permits(who_, meta, want, owners_);
}

Result<bool> CatalogView::may_read_version(const store::VersionRow& v) {
  if (who_.is_root()) return true;
  auto host_id = r_.node_host(v.node_id);
  if (!host_id.ok()) return host_id.error();
  auto pts = host_points(*host_id);
  if (!pts.ok()) return pts.error();
  // At any point where it is valid: the directories above it may differ between points.
  std::int64_t last = std::min(v.to_seq, static_cast<std::int64_t>((*pts)->size()));
  for (std::int64_t seq = last; seq >= v.from_seq; --seq) {
    auto ok = may(v.node_id, v.meta, seq, kRead);
    if (!ok.ok() || *ok) return ok;
  }
  return false;
}

Result<Resolved> CatalogView::resolve(const std::string& host_name, UnixTime at, const std::string& path,
                                      int want) {
  auto parts = split_point_path(path);
  if (!parts.ok()) return parts.error();
  auto h = host(host_name);
  if (!h.ok()) return h.error();
  auto p = point(*h, at);
  if (!p.ok()) return p.error();
  Resolved res{*h, *p, join_point_path(*parts), h->root_node, {}};
  auto root = r_.version_at(h->root_node, p->seq);
  if (!root.ok()) return root.error();
  if (!*root)
    return make_error(ErrorKind::NotFound, "point " + format_utc(p->at) + " of " + host_name + " is empty");
  res.version = **root;
  std::string walked;
  for (const auto& name : *parts) {
    if (!is_dir(res.version.meta))
      return make_error(ErrorKind::NotFound,
                        host_name + ":" + escape_for_display(walked) + " is not a directory");
    if (!permits(who_, res.version.meta, kExec, owners_))
      return make_error(ErrorKind::Denied, "permission denied: " + host_name + ":" +
                                               (walked.empty() ? "/" : escape_for_display(walked)) +
                                               " (you could not enter it on " + host_name + " either)");
    walked += "/" + name;
    auto child = r_.child_at(res.node_id, name, p->seq);
    if (!child.ok()) return child.error();
    if (!*child)
      return make_error(ErrorKind::NotFound,
                        "no " + escape_for_display(walked) + " on " + host_name + " at " + format_utc(p->at));
    res.node_id = (*child)->version.node_id;
    res.version = std::move((*child)->version);
  }
  if (want && !permits(who_, res.version.meta, want, owners_))
    return make_error(ErrorKind::Denied,
                      "permission denied: " + host_name + ":" + escape_for_display(res.path));
  return res;
}

Result<std::vector<ListedEntry>> CatalogView::list(const Resolved& dir) {
  if (!is_dir(dir.version.meta))
    return make_error(ErrorKind::Invalid,
                      dir.host.name + ":" + escape_for_display(dir.path) + " is not a directory");
  if (!permits(who_, dir.version.meta, kRead, owners_))
    return make_error(ErrorKind::Denied,
                      "permission denied: cannot list " + dir.host.name + ":" + escape_for_display(dir.path));
  bool searchable = permits(who_, dir.version.meta, kExec, owners_);
  auto children = r_.children_at(dir.node_id, dir.point.seq);
  if (!children.ok()) return children.error();
  std::vector<ListedEntry> out;
  out.reserve(children->size());
  for (auto& c : *children) {
    c.version.meta = visible_meta(c.version.meta);
    out.push_back({std::move(c.name), std::move(c.version), searchable});
  }
  return out;
}

Result<const std::vector<store::PointRow>*> CatalogView::host_points(std::int64_t host_id) {
  auto it = points_cache_.find(host_id);
  if (it == points_cache_.end()) {
    auto pts = r_.points(host_id);
    if (!pts.ok()) return pts.error();
    it = points_cache_.emplace(host_id, std::move(*pts)).first;
  }
  return &it->second;
}

UnixTime CatalogView::at_of(const std::vector<store::PointRow>& pts, std::int64_t seq) {
  if (pts.empty()) return 0;
  if (seq < 1) seq = 1;
  if (seq > static_cast<std::int64_t>(pts.size())) seq = static_cast<std::int64_t>(pts.size());
  return pts[static_cast<std::size_t>(seq - 1)].at;
}

Result<std::vector<VersionInfo>> CatalogView::versions(const std::string& host_name,
                                                       const std::string& path) {
  // Reaching the path in the newest point that has it would miss deleted files, so walk the
  // node tree (all names ever seen) and judge each version at each of its points. A path
  // that never existed and one the caller may never read give the same answer.
  auto parts = split_point_path(path);
  if (!parts.ok()) return parts.error();
  auto h = host(host_name);
  if (!h.ok()) return h.error();
  auto pts = host_points(h->id);
  if (!pts.ok()) return pts.error();
  std::int64_t newest = static_cast<std::int64_t>((*pts)->size());
  auto denied = [&] {
    return make_error(ErrorKind::Denied, "permission denied: " + host_name + ":" + escape_for_display(path));
  };
  // As on the host, a name below a directory the caller could never search is "permission
  // denied" whether or not it exists; "not found" only where they could have looked.
  auto searchable_somewhere = [&](std::int64_t dir) -> Result<bool> {
    for (std::int64_t seq = newest; seq >= 1; --seq) {
      auto reach = may_reach(dir, seq);
      if (!reach.ok()) return reach.error();
      if (!*reach) continue;
      auto x = may_search_dir(dir, seq);
      if (!x.ok() || *x) return x;
    }
    return false;
  };
  std::int64_t node = h->root_node;
  for (const auto& name : *parts) {
    auto child = r_.child_node(node, name);
    if (!child.ok()) return child.error();
    if (!*child) {
      auto x = searchable_somewhere(node);
      if (!x.ok()) return x.error();
      if (!*x) return denied();
      return make_error(ErrorKind::NotFound,
                        "no " + escape_for_display(path) + " on " + host_name + " at any point");
    }
    node = **child;
  }
  auto out = versions_of_node(*h, node);
  if (!out.ok()) return out.error();
  if (out->empty()) return denied();
  return out;
}

Result<std::vector<VersionInfo>> CatalogView::versions_of_node(const store::HostRow& h, std::int64_t node) {
  auto pts = host_points(h.id);
  if (!pts.ok()) return pts.error();
  std::int64_t newest = static_cast<std::int64_t>((*pts)->size());
  auto all = r_.versions_of(node);
  if (!all.ok()) return all.error();
  std::vector<VersionInfo> out;
  for (auto& v : *all) {
    // The points of this version where the caller could reach and read it (ancestors'
    // modes may differ between points); first_seen/last_seen only tell of those.
    std::int64_t first = 0, last = 0, count = 0;
    for (std::int64_t seq = std::min(v.to_seq, newest); seq >= v.from_seq; --seq) {
      auto reach = may_reach(node, seq);
      if (!reach.ok()) return reach.error();
      if (!*reach) continue;
      if (!who_.is_root() && !permits(who_, v.meta, kRead, owners_)) continue;
      if (!last) last = seq;
      first = seq;
      ++count;
    }
    if (!count) continue;
    VersionInfo info;
    info.first_at = at_of(**pts, first);
    info.last_at = at_of(**pts, last);
    info.points = count;
    info.current = v.to_seq >= newest && last == newest;
    if (v.content_id) {
      auto c = r_.content(v.content_id);
      if (!c.ok()) return c.error();
      if (c->whole_sha) info.sha256 = to_hex(c->sha);
      info.unavailable = c->unavailable;
    }
    v.meta = visible_meta(v.meta);
    info.version = std::move(v);
    out.push_back(std::move(info));
  }
  return out;
}

FileMeta CatalogView::visible_meta(const FileMeta& meta) {
  if (who_.is_root() || meta.xattrs.empty()) return meta;
  FileMeta out = meta;
  bool readable = may_read(meta);
  std::erase_if(out.xattrs, [&](const auto& x) {
    const std::string& name = x.first;
    if (name.rfind("trusted.", 0) == 0) return true;
    if (name.rfind("user.", 0) == 0) return !readable;
    return false;  // security.* and system.* are shown to anyone who may look the file up
  });
  return out;
}

Result<std::vector<store::ChunkLocation>> CatalogView::chunks_of(const store::VersionRow& file) {
  if (file.meta.type != FileType::Regular || file.content_id == 0) return std::vector<store::ChunkLocation>{};
  return r_.chunk_locations(file.content_id);
}

Result<store::ContentRow> CatalogView::content_of(const store::VersionRow& file) {
  if (file.meta.type != FileType::Regular || file.content_id == 0)
    return store::ContentRow{0, sha256(std::string_view()), 0};
  return r_.content(file.content_id);
}

}  // namespace recall::service
