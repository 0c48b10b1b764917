#include "importers/restic_importer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "catalogd/store/catalog_writer.h"
#include "catalogd/store/volume_catalog.h"
#include "common/paths.h"
#include "common/time.h"
#include "common/unique_fd.h"
#include "importers/tree_image.h"
#include "restic/repository.h"
#include "restic/tree_loader.h"

namespace recall::import {
namespace {

using restic::DigestHash;

// Deeper trees than this are a hostile repository (or a loop), not a file system.
constexpr int kMaxDepth = 512;
// Parsed trees kept for the next snapshots (which share most of them), in nodes.
constexpr std::size_t kTreeCacheNodes = 4'000'000;
constexpr std::size_t kMaxExamples = 20;

FileMeta root_meta(std::int64_t at_ns) {
  FileMeta m;
  m.type = FileType::Directory;
  m.mode = 0755;
  m.user = m.group = "root";
  m.mtime_ns = m.ctime_ns = at_ns;
  return m;
}

// A POSIX ACL in the kernel's xattr form (system.posix_acl_*: version 2, then tag u16, perm u16,
// id u32 per entry), as restic records it on Linux. nullopt when malformed.
std::optional<std::vector<AclEntry>> kernel_acl(std::string_view v) {
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(std::uint8_t(v[at]) | std::uint8_t(v[at + 1]) << 8);
  };
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(u16(at)) | static_cast<std::uint32_t>(u16(at + 2)) << 16;
  };
  if (v.size() < 4 || (v.size() - 4) % 8 != 0 || u32(0) != 2) return std::nullopt;
  std::vector<AclEntry> out;
  for (std::size_t at = 4; at < v.size(); at += 8) {
    AclEntry e;
    switch (u16(at)) {
      case 0x01:
        e.tag = AclEntry::Tag::UserObj;
        break;
      case 0x02:
        e.tag = AclEntry::Tag::User;
        break;
      case 0x04:
        e.tag = AclEntry::Tag::GroupObj;
        break;
      case 0x08:
        e.tag = AclEntry::Tag::Group;
        break;
      case 0x10:
        e.tag = AclEntry::Tag::Mask;
        break;
      case 0x20:
        e.tag = AclEntry::Tag::Other;
        break;
      default:
        return std::nullopt;
    }
    e.perm = static_cast<std::uint8_t>(u16(at + 2) & 7);
    if (e.tag == AclEntry::Tag::User || e.tag == AclEntry::Tag::Group) e.id = u32(at + 4);
    out.push_back(e);
  }
  return out;
}

struct PackVolume {
  std::int64_t id = 0;  // 0: unusable, `why` says so
  std::uint64_t size = 0;
  std::string why;
};

class ResticImport {
 public:
  ResticImport(store::Db& db, const ResticImportOptions& o, ImportProgress& p, const std::atomic<bool>& c)
      : db_(db), o_(o), progress_(p), cancel_(c) {}
  Result<nlohmann::json> run();

 private:
  std::string source_of(const restic::Snapshot& s) const {
    return "restic " + repo_->id() + " snapshot " + s.id;
  }
  Result<std::optional<std::string>> imported_as(const restic::Snapshot& s);
  // Builds `dir` from tree `tree_id`; `prev_dir` is the same directory in the host's previous
  // snapshot of this run (or null), whose unchanged subtrees are taken over rather than rebuilt.
  Status build(const Digest& tree_id, ImageNode& dir, ImageNode* prev_dir, int depth,
               std::vector<Digest>& ancestors, store::PointWriter& w, const std::string& path);
  Result<FileMeta> meta_of(const restic::Node& n, const std::string& path);
  Result<std::int64_t> content_of(const restic::Node& n, store::PointWriter& w, const std::string& path);
  Result<const PackVolume*> pack_volume(std::uint32_t pack, store::PointWriter& w);
  Result<std::int64_t> chunk_of(const Digest& blob, const restic::BlobRef& ref, const PackVolume& vol,
                                store::PointWriter& w);
  Status save_key(bool* created);
  Result<nlohmann::json> import_snapshot(const restic::Snapshot& s, const std::string& host, UnixTime at);

  store::Db& db_;
  const ResticImportOptions& o_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;
  std::optional<restic::Repository> repo_;
  std::string key_ref_;
  std::optional<restic::TreeLoader> trees_;
  std::unordered_map<Digest, std::int64_t, DigestHash> chunks_, contents_;
  std::unordered_map<std::uint32_t, PackVolume> packs_;
  // Each host's last snapshot imported in this run (the catalog's previous point of that host),
  // while they hold fewer than kTreeCacheNodes nodes in all.
  std::unordered_map<std::string, TreeImage> last_image_;
  std::uint64_t last_image_nodes_ = 0;
  std::uint64_t files_ = 0, unavailable_ = 0;
  nlohmann::json examples_ = nlohmann::json::array();
  std::vector<std::string> warnings_;
};

Result<std::optional<std::string>> ResticImport::imported_as(const restic::Snapshot& s) {
  auto q = db_.cached(
      "SELECT h.name, p.at FROM backup_sets b JOIN points p ON p.set_id = b.id JOIN hosts h ON h.id = "
      "p.host_id "
      "WHERE b.importer = 'restic' AND b.status = 'complete' AND b.source = ?1 LIMIT 1");
  if (!q.ok()) return q.error();
  (*q)->bind(1, source_of(s));
  auto r = (*q)->step();
  if (!r.ok()) return r.error();
  if (!*r) return std::optional<std::string>();
  return std::optional<std::string>((*q)->text(0) + " at " + format_utc((*q)->i64(1)));
}

Result<FileMeta> ResticImport::meta_of(const restic::Node& n, const std::string& path) {
  FileMeta m;
  m.type = n.type;
  m.mode = n.mode;
  m.uid = n.uid;
  m.gid = n.gid;
  m.user = n.user;
  m.group = n.group;
  m.mtime_ns = n.mtime_ns;
  m.ctime_ns = n.ctime_ns;
  // Inode numbers repeat across file systems; restic keeps the device, so mix it in (stable from
  // one snapshot to the next, which is what finds a moved file).
  m.ino = n.inode ^ (n.device_id * 0x9E3779B97F4A7C15ull);
  if (m.type == FileType::Regular) m.size = n.size;
  if (m.type == FileType::BlockDevice || m.type == FileType::CharDevice) m.rdev = n.rdev;
  if (m.type == FileType::Symlink) {
    m.link_target = n.link_target;
    m.size = n.link_target.size();  // what lstat says of a symlink
  }
  for (const auto& [name, value] : n.xattrs) {
    if (name == "system.posix_acl_access" || name == "system.posix_acl_default") {
      auto acl = kernel_acl(value);
      if (!acl) return make_error(ErrorKind::Corrupt, path + ": " + name + " is not a POSIX ACL");
      // Three entries say no more than the mode bits (the dir importer keeps none then).
      if (name == "system.posix_acl_access" && acl->size() > 3 && m.type != FileType::Symlink)
        m.acl = std::move(*acl);
      if (name == "system.posix_acl_default" && m.type == FileType::Directory)
        m.default_acl = std::move(*acl);
      continue;
    }
    m.xattrs.emplace_back(name, value);
  }
  std::sort(m.xattrs.begin(), m.xattrs.end());
  return m;
}

Result<const PackVolume*> ResticImport::pack_volume(std::uint32_t pack, store::PointWriter& w) {
  if (auto it = packs_.find(pack); it != packs_.end()) return &it->second;
  PackVolume v;
  const std::string& hex = repo_->packs()[pack];
  const std::string path = repo_->pack_path(pack);
  Digest sha{};
  digest_from_hex(hex, sha);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    v.why = "pack " + hex.substr(0, 12) + " is missing from the repository (" + std::strerror(errno) + ")";
  } else {
    v.size = static_cast<std::uint64_t>(st.st_size);
    // A pack's name is the SHA-256 of its bytes: registered once, whatever imports it again.
    auto known = store::find_archive(db_, sha);
    if (!known.ok()) return known.error();
    if (*known) {
      auto row = store::volume_by_volser(db_, (*known)->volser);
      if (!row.ok()) return row.error();
      if (!*row) return make_error(ErrorKind::Internal, "volume " + (*known)->volser + " vanished");
      v.id = (*row)->id;
      if ((*known)->path != path)
        warnings_.push_back("pack " + hex.substr(0, 12) + " is read from " + (*known)->path +
                            " (where it was first imported), not " + path);
    } else {
      auto volser = store::next_volser(db_, "R", [](const std::string&) { return false; });
      if (!volser.ok()) return volser.error();
      auto id = w.add_volume(*volser, "archive", path);
      if (!id.ok()) return id.error();
      RECALL_TRY(w.set_volume_bytes(*id, v.size));
      RECALL_TRY(w.set_volume_sha(*id, sha));
      RECALL_TRY(w.set_volume_key(*id, key_ref_));
      v.id = *id;
    }
  }
  return &packs_.emplace(pack, std::move(v)).first->second;
}

Result<std::int64_t> ResticImport::chunk_of(const Digest& blob, const restic::BlobRef& ref,
                                            const PackVolume& vol, store::PointWriter& w) {
  if (auto it = chunks_.find(blob); it != chunks_.end()) return it->second;
  const int codec = ref.uncompressed_length ? store::kCodecResticZstd : store::kCodecResticBlob;
  // Bytes Recall may have already (another import, or its own pool): then one more copy.
  bool fresh = false;
  auto id = w.intern_chunk(blob, ref.plain_size(), &fresh);
  if (!id.ok()) return id.error();
  RECALL_TRY(w.add_location(*id, vol.id, ref.offset, ref.length, codec));
  if (fresh) {
    progress_.new_chunks++;
    progress_.new_bytes += ref.plain_size();
  }
  chunks_.emplace(blob, *id);
  return *id;
}

Result<std::int64_t> ResticImport::content_of(const restic::Node& n, store::PointWriter& w,
                                              const std::string& path) {
  files_++;
  if (n.content.empty() && n.size == 0) {
    const Digest empty = sha256(std::string_view());
    if (auto it = contents_.find(empty); it != contents_.end()) return it->second;
    auto known = w.find_content(empty);
    if (!known.ok()) return known.error();
    auto id = *known ? Result<std::int64_t>(**known) : w.add_content(empty, 0, {});
    if (id.ok()) contents_.emplace(empty, *id);
    return id;
  }
  const Digest key = store::chunk_list_digest(n.content);
  if (auto it = contents_.find(key); it != contents_.end()) return it->second;
  std::vector<std::int64_t> ids;
  ids.reserve(n.content.size());
  std::uint64_t total = 0;
  std::string why;
  for (const Digest& blob : n.content) {
    const restic::BlobRef* ref = repo_->find(blob);
    if (!ref || ref->tree) {
      why = "data blob " + to_hex(blob).substr(0, 12) + " is in no index of the repository";
      break;
    }
    auto vol = pack_volume(ref->pack, w);
    if (!vol.ok()) return vol.error();
    if (!(*vol)->why.empty()) {
      why = (*vol)->why;
      break;
    }
    if (std::uint64_t{ref->offset} + ref->length > (*vol)->size) {
      why = "pack " + repo_->packs()[ref->pack].substr(0, 12) + " is truncated (" +
            std::to_string((*vol)->size) + " bytes; a blob ends at " +
            std::to_string(std::uint64_t{ref->offset} + ref->length) + ")";
      break;
    }
    auto id = chunk_of(blob, *ref, **vol, w);
    if (!id.ok()) return id.error();
    ids.push_back(*id);
    total += ref->plain_size();
  }
  if (why.empty() && total != n.size)
    why = "its blobs hold " + std::to_string(total) + " bytes, not the file's " + std::to_string(n.size);
  Result<std::int64_t> id = std::int64_t{0};
  if (why.empty()) {
    bool fresh = false;
    id = w.intern_content(key, total, ids, false, &fresh);
  } else if (auto known = w.find_content(key, false); !known.ok() || *known) {
    if (!known.ok()) return known.error();
    id = **known;  // the bytes are readable from where an earlier import found them
  } else {
    unavailable_++;
    if (examples_.size() < kMaxExamples)
      examples_.push_back({{"path", escape_for_display(path)}, {"reason", why}});
    Sha256 h;  // one gap per chunk list and reason
    h.update(std::string_view("recall restic gap", 18));
    h.update({key.data(), key.size()});
    h.update(why);
    const Digest gap = h.finish();
    auto gap_known = w.find_content(gap, false);
    if (!gap_known.ok()) return gap_known.error();
    id = *gap_known ? Result<std::int64_t>(**gap_known) : w.add_gap(gap, n.size, why, std::nullopt);
  }
  if (id.ok()) contents_.emplace(key, *id);
  return id;
}

Status ResticImport::build(const Digest& tree_id, ImageNode& dir, ImageNode* prev_dir, int depth,
                           std::vector<Digest>& ancestors, store::PointWriter& w, const std::string& path) {
  if (cancel_) return make_error(ErrorKind::Cancelled, "import cancelled");
  if (depth > kMaxDepth)
    return make_error(ErrorKind::Corrupt, "tree at " + escape_for_display(path) + " is nested deeper than " +
                                              std::to_string(kMaxDepth) + " levels");
  if (std::find(ancestors.begin(), ancestors.end(), tree_id) != ancestors.end())
    return make_error(ErrorKind::Corrupt,
                      "tree at " + escape_for_display(path) + " contains itself (a loop)");
  auto nodes = trees_->get(tree_id);
  if (!nodes.ok()) return nodes.error();
  ancestors.push_back(tree_id);
  // The directory `n` as it was in the previous snapshot (or null), and whether its subtree is
  // the same now.
  auto prev_of = [&](const restic::Node& n) -> ImageNode* {
    if (!prev_dir) return nullptr;
    auto it = prev_dir->children.find(n.name);
    return it != prev_dir->children.end() && is_dir(it->second->meta) ? it->second.get() : nullptr;
  };
  auto unchanged = [](const ImageNode* prev, const restic::Node& n) {
    return prev && prev->summary && prev->summary->reusable && prev->summary->source_id == *n.subtree;
  };
  std::vector<Digest> next;  // subtrees to read, for the loader's workers
  for (const restic::Node& n : **nodes)
    if (n.type == FileType::Directory && !n.irregular && !unchanged(prev_of(n), n))
      next.push_back(*n.subtree);
  trees_->ahead(next);
  auto sum = std::make_unique<SubtreeSummary>();
  sum->source_id = tree_id;
  for (const restic::Node& n : **nodes) {
    const std::string child_path = (path == "/" ? "" : path) + "/" + n.name;
    progress_.entries++;
    if (n.irregular) {
      if (warnings_.size() < kMaxExamples)
        warnings_.push_back(escape_for_display(child_path) +
                            ": restic recorded it as 'irregular'; not listed");
      continue;
    }
    auto meta = meta_of(n, child_path);
    if (!meta.ok()) return meta.error();
    auto node = std::make_unique<ImageNode>();
    node->meta = std::move(*meta);
    sum->entries++;
    if (n.type == FileType::Regular) {
      const std::uint64_t unavailable_before = unavailable_;
      progress_.bytes_total += n.size;
      auto c = content_of(n, w, child_path);
      if (!c.ok()) return c.error();
      node->content_id = *c;
      sum->files++;
      sum->bytes += n.size;
      sum->unavailable += unavailable_ - unavailable_before;
      if (n.links > 1) sum->reusable = false;
    } else if (n.type == FileType::Directory) {
      ImageNode* prev = prev_of(n);
      if (unchanged(prev, n)) {
        // The same tree as in the previous snapshot at this path: the same subtree, taken over.
        node->children = std::move(prev->children);
        node->summary = std::move(prev->summary);
        node->same_below = true;
        const SubtreeSummary& below = *node->summary;
        progress_.entries += below.entries;
        progress_.bytes_total += below.bytes;
        files_ += below.files;
        unavailable_ += below.unavailable;
      } else {
        RECALL_TRY(build(*n.subtree, *node, prev, depth + 1, ancestors, w, child_path));
      }
      const SubtreeSummary& below = *node->summary;
      sum->entries += below.entries;
      sum->files += below.files;
      sum->bytes += below.bytes;
      sum->unavailable += below.unavailable;
      sum->reusable = sum->reusable && below.reusable;
    }
    if (!dir.children.emplace(n.name, std::move(node)).second)
      return make_error(ErrorKind::Corrupt, "tree at " + escape_for_display(path) + " lists '" +
                                                escape_for_display(n.name) + "' twice");
  }
  ancestors.pop_back();
  dir.summary = std::move(sum);
  return {};
}

Status ResticImport::save_key(bool* created) {
  *created = false;
  if (::mkdir(o_.key_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return io_error("cannot create " + o_.key_dir, errno);
  const std::string path = key_file_path(o_.key_dir, key_ref_);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return {};  // a repository's master key never changes
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return io_error("cannot write " + tmp, errno);
  UniqueFd f(fd);
  const std::string text = restic::key_to_json(repo_->master_key()) + "\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd) != 0)
    return io_error("cannot write " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename " + tmp, errno);
  *created = true;
  return {};
}

Result<nlohmann::json> ResticImport::import_snapshot(const restic::Snapshot& s, const std::string& host,
                                                     UnixTime at) {
  auto w = store::PointWriter::begin(db_, {host, at, "restic", source_of(s), "full"});
  if (!w.ok()) return make_error(w.error().kind, "snapshot " + s.id.substr(0, 8) + ": " + w.error().message);
  const std::uint64_t files_before = files_, unavailable_before = unavailable_;
  TreeImage image;
  image.root().meta = root_meta(s.time_ns);
  TreeImage* prev = nullptr;
  if (auto it = last_image_.find(host); it != last_image_.end()) prev = &it->second;
  std::vector<Digest> ancestors;
  if (auto st = build(s.tree, image.root(), prev ? &prev->root() : nullptr, 0, ancestors, *w, "/"); !st.ok())
    return make_error(st.error().kind, "snapshot " + s.id.substr(0, 8) + ": " + st.error().message);
  image.count_links();
  auto written = write_image(*w, image, progress_);
  if (!written.ok()) return written.error();
  // Kept for the host's next snapshot (the previous image gave its unchanged subtrees to this one).
  if (prev && prev->root().summary)
    last_image_nodes_ -= std::min(last_image_nodes_, prev->root().summary->entries);
  last_image_.erase(host);
  const std::uint64_t nodes = image.root().summary ? image.root().summary->entries : 0;
  if (last_image_nodes_ + nodes > kTreeCacheNodes) {
    last_image_.clear();
    last_image_nodes_ = 0;
  }
  last_image_nodes_ += nodes;
  last_image_.emplace(host, std::move(image));
  nlohmann::json rep = {{"snapshot", s.id},
                        {"host", host},
                        {"at", format_utc(at)},
                        {"seq", w->seq()},
                        {"paths", s.paths},
                        {"tags", s.tags},
                        {"entries", written->entries},
                        {"changed", written->changed},
                        {"unchanged", written->unchanged},
                        {"deleted", written->deleted},
                        {"files", files_ - files_before},
                        {"unavailable", unavailable_ - unavailable_before}};
  nlohmann::json stats = rep;
  stats["repo"] = o_.repo;
  RECALL_TRY(w->commit(stats.dump()));  // a savepoint: kept for the outer commit
  return rep;
}

Result<nlohmann::json> ResticImport::run() {
  const auto started = std::chrono::steady_clock::now();
  if (o_.repo.empty() || o_.repo.front() != '/')
    return make_error(ErrorKind::Invalid, "repository path '" + o_.repo + "' must be absolute");
  auto repo = restic::Repository::open(o_.repo, o_.password);
  if (!repo.ok()) return repo.error();
  repo_.emplace(std::move(*repo));
  key_ref_ = "restic-" + repo_->id();
  nlohmann::json out = {{"importer", "restic"},
                        {"repo", o_.repo},
                        {"repository_id", repo_->id()},
                        {"version", repo_->version()}};
  auto snaps = repo_->snapshots();
  if (!snaps.ok()) return snaps.error();
  std::vector<restic::Snapshot> todo;
  nlohmann::json skipped = nlohmann::json::array();
  std::size_t of_host = 0;
  std::string first_as;
  for (auto& s : *snaps) {
    const std::string host = s.hostname.empty() ? "restic" : s.hostname;
    if (!o_.host.empty() && host != o_.host) continue;
    of_host++;
    auto as = imported_as(s);
    if (!as.ok()) return as.error();
    if (*as) {
      if (first_as.empty()) first_as = **as;
      continue;
    }
    todo.push_back(std::move(s));
  }
  if (of_host == 0)
    return make_error(ErrorKind::NotFound,
                      o_.repo + ": no snapshots" + (o_.host.empty() ? "" : " of host " + o_.host));
  out["snapshots_in_repository"] = of_host;
  if (todo.empty()) {
    out["already_imported"] = true;
    out["already_as"] = first_as;
    return out;
  }
  RECALL_TRY(repo_->load_index());
  trees_.emplace(*repo_, static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)),
                 kTreeCacheNodes);
  bool key_created = false;
  RECALL_TRY(save_key(&key_created));
  // A key written for an import that then fails is taken back: nothing refers to it.
  struct KeyGuard {
    std::string path;
    bool armed;
    ~KeyGuard() {
      if (armed) ::unlink(path.c_str());
    }
  } key_guard{key_file_path(o_.key_dir, key_ref_), key_created};

  auto txn = store::Transaction::begin(db_);  // every snapshot, or none
  if (!txn.ok()) return txn.error();
  nlohmann::json done = nlohmann::json::array();
  for (const auto& s : todo) {
    const std::string host = s.hostname.empty() ? "restic" : s.hostname;
    UnixTime at = static_cast<UnixTime>(s.time_ns / 1'000'000'000);
    // Points are named by the second: a snapshot in the same second as the host's newest point
    // is recorded one second later; an older one cannot follow the newer points.
    auto q = db_.cached("SELECT max(p.at) FROM points p JOIN hosts h ON h.id = p.host_id WHERE h.name = ?1");
    if (!q.ok()) return q.error();
    (*q)->bind(1, host);
    RECALL_TRY((*q)->step());
    const UnixTime newest = (*q)->is_null(0) ? INT64_MIN : (*q)->i64(0);
    (*q)->reset();
    if (at < newest) {
      skipped.push_back({{"snapshot", s.id},
                         {"reason", "taken at " + format_utc(at) + ", before host " + host +
                                        "'s newest point (" + format_utc(newest) + ")"}});
      continue;
    }
    if (at == newest) {
      warnings_.push_back("snapshot " + s.id.substr(0, 8) +
                          " is in the same second as the point before it; " + "recorded at " +
                          format_utc(at + 1));
      at++;
    }
    auto rep = import_snapshot(s, host, at);
    if (!rep.ok()) return rep.error();
    done.push_back(std::move(*rep));
  }
  if (cancel_) return make_error(ErrorKind::Cancelled, "import cancelled");
  RECALL_TRY(txn->commit());
  key_guard.armed = false;
  out.update(
      {{"already_imported", false},
       {"snapshots", std::move(done)},
       {"skipped", std::move(skipped)},
       {"packs", packs_.size()},
       {"blobs", repo_->blob_count()},
       {"files", files_},
       {"unavailable", unavailable_},
       {"unavailable_examples", examples_},
       {"warnings", warnings_},
       {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
  return out;
}

}  // namespace

std::string key_file_path(const std::string& key_dir, const std::string& key_ref) {
  return key_dir + "/" + key_ref + ".json";
}

Result<nlohmann::json> import_restic(store::Db& db, const ResticImportOptions& options,
                                     ImportProgress& progress, const std::atomic<bool>& cancel) {
  ResticImport imp(db, options, progress, cancel);
  return imp.run();
}

}  // namespace recall::import
