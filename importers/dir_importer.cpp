#include "importers/dir_importer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "catalogd/store/catalog_writer.h"
#include "common/paths.h"
#include "importers/chunk_store.h"
#include "importers/file_hasher.h"
#include "importers/file_meta_reader.h"
#include "importers/import_txn.h"

namespace recall::import {
namespace {

struct DevIno {
  dev_t dev;
  ino_t ino;
  bool operator<(const DevIno& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};

// A file waiting for its bytes to come back from the hash pool; hard links to the same
// inode met meanwhile wait with it.
struct PendingFile {
  struct Link {
    std::int64_t node;
    FileMeta meta;
    std::int64_t prev_version;  // 0 if the path is new
  };
  std::vector<Link> links;
  std::vector<std::int64_t> chunk_ids;
  std::string path;
  std::optional<DevIno> link_key;  // set when other hard links may join
};

// Chunks stored by this import and not yet visible to the workers' connections.
class StoredSet {
 public:
  void add(const Digest& d) {
    std::lock_guard lk(mu_);
    set_.insert(d);
  }
  bool has(const Digest& d) {
    std::lock_guard lk(mu_);
    return set_.count(d) != 0;
  }

 private:
  std::mutex mu_;
  std::unordered_set<Digest, DigestHash> set_;
};

class DirImport {
 public:
  DirImport(store::Db& db, const DirImportOptions& o, ImportProgress& p, const std::atomic<bool>& cancel)
      : db_(db), o_(o), progress_(p), cancel_(cancel) {}

  Result<DirImportReport> run();

 private:
  struct DirTask {
    std::string real;   // path on this machine
    std::string shown;  // path as recorded on the host
    std::int64_t node;
    DevIno id;  // what lstat said when its parent was listed
  };
  enum class Outcome { Kept, Recorded, Vanished };

  Status record_ancestors(const std::vector<std::string>& parts, const std::string& source_root);
  // Records `meta` for `node` unless the open version is unchanged. `xattr_path` reaches the
  // entry through its parent's open descriptor. Vanished: it disappeared while being read.
  Result<Outcome> keep_or_replace(std::int64_t node, const std::optional<store::VersionRow>& prev,
                                  FileMeta meta, const std::string& xattr_path);
  // The entry vanished or could not be read: report it and end what the previous point had.
  Status gone(const std::string& shown, const std::string& why, const std::optional<store::VersionRow>& prev,
              std::int64_t node);
  Status walk_dir(const DirTask& dir);
  Status handle_entry(const DirTask& dir, int dir_fd, const std::string& name, const struct stat& st,
                      const std::optional<store::VersionRow>& prev, std::int64_t node,
                      std::vector<DirTask>& subdirs);
  Status drain(bool wait);
  Status finish_file(std::uint64_t job, const HashBatch& b);
  void skip(const std::string& path, const std::string& why) {
    progress_.skipped++;
    if (report_.skipped.size() < 10000) report_.skipped.push_back({escape_for_display(path), why});
  }
  Result<std::int64_t> node_for(std::int64_t parent, const std::string& name,
                                const std::optional<store::VersionRow>& prev) {
    if (prev) return prev->node_id;
    return txn_.writer->child_node(parent, name);
  }

  store::Db& db_;
  const DirImportOptions& o_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;
  ImportTxn txn_;
  std::unique_ptr<HashPool> pool_;
  StoredSet stored_;
  FileMetaReader meta_reader_;
  DirImportReport report_;
  dev_t root_dev_ = 0;
  std::set<DevIno> excluded_;
  std::uint64_t next_job_ = 1;
  std::unordered_map<std::uint64_t, PendingFile> pending_;
  std::map<DevIno, std::uint64_t> link_jobs_;     // hard-linked inode -> its pending job
  std::map<DevIno, std::int64_t> link_contents_;  // hard-linked inode -> content id
  std::vector<DirTask> stack_;                    // directories still to walk, depth first
  std::set<DevIno> walked_;                       // a bind mount must not be walked twice
};

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

Result<DirImport::Outcome> DirImport::keep_or_replace(std::int64_t node,
                                                      const std::optional<store::VersionRow>& prev,
                                                      FileMeta meta, const std::string& xattr_path) {
  if (prev && unchanged(prev->meta, meta)) return Outcome::Kept;
  if (auto s = meta_reader_.add_extras(xattr_path, meta); !s.ok()) return Outcome::Vanished;
  if (prev) RECALL_TRY(txn_.writer->close_version(prev->id));
  auto v = txn_.writer->add_version(node, meta, 0);
  if (!v.ok()) return v.error();
  progress_.entries_changed++;
  return Outcome::Recorded;
}

Status DirImport::gone(const std::string& shown, const std::string& why,
                       const std::optional<store::VersionRow>& prev, std::int64_t node) {
  skip(shown, why);
  if (prev) {
    RECALL_TRY(txn_.writer->close_version(prev->id));
    progress_.entries_deleted++;
  }
  return txn_.writer->close_subtree(node);
}

Status DirImport::record_ancestors(const std::vector<std::string>& parts, const std::string& source_root) {
  // Ancestor i of the recorded root (0 = "/") takes its metadata from the matching ancestor
  // of the source, or from "/" when the source is shallower: the point needs real modes and
  // owners on every directory above the data, since access checks walk through them.
  std::vector<std::string> src_parts;
  {
    auto sp = split_point_path(source_root);
    if (!sp.ok()) return sp.error();
    src_parts = *sp;
  }
  std::int64_t node = txn_.writer->root_node();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::size_t up = parts.size() - i;  // how far above the source root this ancestor is
    std::vector<std::string> sp(
        src_parts.begin(), src_parts.end() - static_cast<std::ptrdiff_t>(std::min(up, src_parts.size())));
    std::string real = join_point_path(sp);
    struct stat st {};
    if (lstat(real.c_str(), &st) != 0) return io_error("cannot stat " + real, errno);
    auto prev = txn_.writer->open_version(node);
    if (!prev.ok()) return prev.error();
    auto kept = keep_or_replace(node, *prev, meta_reader_.from_stat(st), real);
    if (!kept.ok()) return kept.error();
    if (*kept == Outcome::Vanished) return make_error(ErrorKind::Io, "cannot read the attributes of " + real);
    progress_.entries++;
    // Anything else the previous point had beside the path being imported is gone now.
    auto children = txn_.writer->open_children(node);
    if (!children.ok()) return children.error();
    for (const auto& [name, v] : *children) {
      if (name == parts[i]) continue;
      RECALL_TRY(txn_.writer->close_version(v.id));
      if (is_dir(v.meta)) RECALL_TRY(txn_.writer->close_subtree(v.node_id));
      progress_.entries_deleted++;
    }
    auto child = txn_.writer->child_node(node, parts[i]);
    if (!child.ok()) return child.error();
    node = *child;
  }
  return {};
}

Status DirImport::handle_entry(const DirTask& dir, int dir_fd, const std::string& name, const struct stat& st,
                               const std::optional<store::VersionRow>& prev, std::int64_t node,
                               std::vector<DirTask>& subdirs) {
  std::string real = join(dir.real, name);
  std::string shown = join(dir.shown, name);
  // Attributes are read through the parent's descriptor: a directory above swapped for a
  // symlink meanwhile cannot lend this entry another file's xattrs or ACL.
  std::string via_fd = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  FileMeta meta = meta_reader_.from_stat(st);
  if (meta.type == FileType::Regular) progress_.bytes_total += meta.size;

  if (meta.type != FileType::Regular) {
    auto kept = keep_or_replace(node, prev, meta, via_fd);
    if (!kept.ok()) return kept.error();
    if (*kept == Outcome::Vanished) return gone(shown, "vanished during the backup", prev, node);
    if (meta.type != FileType::Directory) return {};
    if (st.st_dev != root_dev_ && !o_.cross_filesystems) {
      // A mount point: recorded as an empty directory unless asked to cross.
      return txn_.writer->close_subtree(node);
    }
    subdirs.push_back({real, shown, node, {st.st_dev, st.st_ino}});
    return {};
  }
  if (prev && unchanged(prev->meta, meta)) {
    progress_.files_unchanged++;
    return {};
  }
  if (auto s = meta_reader_.add_extras(via_fd, meta); !s.ok())
    return gone(shown, s.error().message, prev, node);
  std::int64_t prev_id = prev ? prev->id : 0;
  if (!prev) {
    // A new path whose inode, size and times match a file of the previous point was moved
    // (a renamed directory, say): its content is known, so it is not read again.
    auto moved = txn_.writer->moved_version(meta.ino, meta.size, meta.mtime_ns, meta.ctime_ns);
    if (!moved.ok()) return moved.error();
    if (*moved && (*moved)->content_id) {
      auto v = txn_.writer->add_version(node, meta, (*moved)->content_id);
      if (!v.ok()) return v.error();
      progress_.entries_changed++;
      progress_.files_unchanged++;
      return {};
    }
  }
  DevIno key{st.st_dev, st.st_ino};
  if (st.st_nlink > 1) {
    if (auto it = link_contents_.find(key); it != link_contents_.end()) {
      if (prev_id) RECALL_TRY(txn_.writer->close_version(prev_id));
      auto v = txn_.writer->add_version(node, meta, it->second);
      if (!v.ok()) return v.error();
      progress_.entries_changed++;
      return {};
    }
    if (auto it = link_jobs_.find(key); it != link_jobs_.end()) {
      pending_[it->second].links.push_back({node, std::move(meta), prev_id});
      return {};
    }
  }
  std::uint64_t job = next_job_++;
  PendingFile& pf = pending_[job];
  pf.path = shown;
  pf.links.push_back({node, std::move(meta), prev_id});
  if (st.st_nlink > 1) {
    link_jobs_[key] = job;
    pf.link_key = key;
  }
  pool_->submit({job, real, st.st_dev, st.st_ino});
  return {};
}

Status DirImport::walk_dir(const DirTask& dir) {
  auto prev_children = txn_.writer->open_children(dir.node);
  if (!prev_children.ok()) return prev_children.error();
  int fd = ::open(dir.real.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    skip(dir.shown + "/", std::string(err == ENOENT ? "vanished during the backup" : "cannot list: ") +
                              (err == ENOENT ? "" : std::strerror(err)));
    return txn_.writer->close_subtree(dir.node);
  }
  struct stat st {};
  // Opened by path, so check it is still the directory its parent listed: a directory above
  // it replaced by a symlink meanwhile would otherwise lend it someone else's files.
  if (fstat(fd, &st) != 0 || st.st_dev != dir.id.dev || st.st_ino != dir.id.ino) {
    ::close(fd);
    skip(dir.shown + "/", "changed during the backup; recorded empty");
    return txn_.writer->close_subtree(dir.node);
  }
  if (!walked_.insert(dir.id).second) {
    ::close(fd);
    skip(dir.shown + "/", "the same directory is mounted elsewhere in the tree; recorded empty here");
    return txn_.writer->close_subtree(dir.node);
  }
  DIR* d = fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    skip(dir.shown + "/", std::string("cannot list: ") + std::strerror(err));
    return txn_.writer->close_subtree(dir.node);
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  std::vector<DirTask> subdirs;
  Status result;
  for (const auto& name : names) {
    if (cancel_.load(std::memory_order_relaxed)) {
      result = make_error(ErrorKind::Cancelled, "import cancelled");
      break;
    }
    progress_.entries++;
    auto prev_it = prev_children->find(name);
    std::optional<store::VersionRow> prev;
    if (prev_it != prev_children->end()) {
      prev = std::move(prev_it->second);
      prev_children->erase(prev_it);
    }
    struct stat est {};
    bool found = fstatat(dirfd(d), name.c_str(), &est, AT_SYMLINK_NOFOLLOW) == 0;
    if (!found || excluded_.count({est.st_dev, est.st_ino})) {
      if (!found) skip(join(dir.shown, name), "vanished during the backup");
      if (prev) {  // not in this point: its validity ends
        if (auto s = txn_.writer->close_version(prev->id); !s.ok()) {
          result = s;
          break;
        }
        if (is_dir(prev->meta)) {
          if (auto s = txn_.writer->close_subtree(prev->node_id); !s.ok()) {
            result = s;
            break;
          }
        }
        progress_.entries_deleted++;
      }
      continue;
    }
    if (prev && is_dir(prev->meta) && !S_ISDIR(est.st_mode)) {
      // A directory became something else: end the old subtree first.
      if (auto s = txn_.writer->close_subtree(prev->node_id); !s.ok()) {
        result = s;
        break;
      }
    }
    auto node = node_for(dir.node, name, prev);
    if (!node.ok()) {
      result = node.error();
      break;
    }
    if (auto s = handle_entry(dir, dirfd(d), name, est, prev, *node, subdirs); !s.ok()) {
      result = s;
      break;
    }
  }
  closedir(d);
  if (!result.ok()) return result;
  for (const auto& [name, v] : *prev_children) {  // in the previous point, not in this one
    RECALL_TRY(txn_.writer->close_version(v.id));
    if (is_dir(v.meta)) RECALL_TRY(txn_.writer->close_subtree(v.node_id));
    progress_.entries_deleted++;
  }
  RECALL_TRY(drain(false));
  for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack_.push_back(std::move(*it));
  return {};
}

Status DirImport::finish_file(std::uint64_t job, const HashBatch& b) {
  auto it = pending_.find(job);
  if (it == pending_.end()) return make_error(ErrorKind::Internal, "unknown import job");
  PendingFile pf = std::move(it->second);
  pending_.erase(it);
  std::optional<DevIno> link_key = pf.link_key;
  if (link_key) link_jobs_.erase(*link_key);
  if (b.error) {
    if (b.error->kind == ErrorKind::Cancelled) return *b.error;
    skip(pf.path, b.error->message);
    for (auto& l : pf.links)
      if (l.prev_version) {
        RECALL_TRY(txn_.writer->close_version(l.prev_version));
        progress_.entries_deleted++;
      }
    return {};
  }
  if (b.changed_while_reading && report_.warnings.size() < 10000)
    report_.warnings.push_back(escape_for_display(pf.path) + ": changed while being read; recorded as read");
  std::int64_t content_id;
  auto known = txn_.chunks->known_content(b.content);
  if (!known.ok()) return known.error();
  if (*known) {
    content_id = **known;
  } else {
    auto c = txn_.chunks->add_content(b.content, b.size, pf.chunk_ids);
    if (!c.ok()) return c.error();
    content_id = *c;
  }
  if (link_key) link_contents_[*link_key] = content_id;
  for (auto& l : pf.links) {
    // What was read is what is recorded: size and times from the open file.
    l.meta.size = b.size;
    l.meta.mtime_ns = b.mtime_ns;
    l.meta.ctime_ns = b.ctime_ns;
    if (l.prev_version) RECALL_TRY(txn_.writer->close_version(l.prev_version));
    auto v = txn_.writer->add_version(l.node, l.meta, content_id);
    if (!v.ok()) return v.error();
    progress_.entries_changed++;
  }
  return {};
}

Status DirImport::drain(bool wait) {
  HashBatch b;
  // Without waiting, still block when too many files are in flight, to bound memory.
  while (pool_->next(b, wait || pool_->outstanding() > 512)) {
    auto it = pending_.find(b.job);
    if (it == pending_.end()) return make_error(ErrorKind::Internal, "unknown import job");
    for (const auto& c : b.chunks) {
      auto id = txn_.chunks->put(c, {});
      if (!id.ok()) return id.error();
      stored_.add(c.sha);
      it->second.chunk_ids.push_back(*id);
    }
    if (b.done) RECALL_TRY(finish_file(b.job, b));
  }
  return {};
}

Result<DirImportReport> DirImport::run() {
  auto started = std::chrono::steady_clock::now();
  if (o_.source.empty() || o_.source.front() != '/')
    return make_error(ErrorKind::Invalid, "import path '" + o_.source + "' must be absolute");
  char resolved[PATH_MAX];
  if (!realpath(o_.source.c_str(), resolved)) return io_error("cannot import " + o_.source, errno);
  std::string source = resolved;
  struct stat root_st {};
  if (lstat(source.c_str(), &root_st) != 0) return io_error("cannot import " + source, errno);
  if (!S_ISDIR(root_st.st_mode))
    return make_error(ErrorKind::Invalid, "cannot import " + source + ": not a directory");
  root_dev_ = root_st.st_dev;
  for (const auto& ex : o_.exclude) {
    struct stat st {};
    if (stat(ex.c_str(), &st) == 0) excluded_.insert({st.st_dev, st.st_ino});
  }
  auto record = split_point_path(o_.record_as.empty() ? source : o_.record_as);
  if (!record.ok()) return record.error();

  auto w = store::PointWriter::begin(db_, {o_.host, o_.at, "dir", source});
  if (!w.ok()) return w.error();
  txn_.open(std::move(*w), o_.pool_dir, progress_, o_.zstd_level);
  txn_.record_point = true;
  int threads = o_.threads > 0 ? o_.threads : std::max(1u, std::thread::hardware_concurrency());
  pool_ = std::make_unique<HashPool>(
      threads, o_.chunker, o_.zstd_level,
      [this]() -> ChunkKnown {
        // Each worker asks its own read-only connection what earlier imports stored.
        auto db = store::Db::open(o_.catalog_path, false, true);
        std::shared_ptr<store::Db> conn(db.ok() ? std::move(*db).release() : nullptr);
        return [this, conn](const Digest& d) {
          if (stored_.has(d)) return true;
          if (!conn) return false;
          auto q = conn->cached("SELECT 1 FROM chunks WHERE sha256 = ?1");
          if (!q.ok()) return false;
          (*q)->bind_blob(1, {d.data(), d.size()});
          auto r = (*q)->step();
          return r.ok() && *r;
        };
      },
      progress_, cancel_);

  auto fail = [&](Error e) -> Result<DirImportReport> {
    pool_.reset();  // workers first: they hold chunks of this import
    return txn_.fail(std::move(e));
  };
  if (auto s = record_ancestors(*record, source); !s.ok()) return fail(s.error());
  // The recorded root itself.
  {
    std::int64_t node = txn_.writer->root_node();
    for (const auto& p : *record) {
      auto c = txn_.writer->child_node(node, p);
      if (!c.ok()) return fail(c.error());
      node = *c;
    }
    auto prev = txn_.writer->open_version(node);
    if (!prev.ok()) return fail(prev.error());
    if (*prev && !is_dir((*prev)->meta)) {
      if (auto s = txn_.writer->close_version((*prev)->id); !s.ok()) return fail(s.error());
      prev->reset();
    }
    auto kept = keep_or_replace(node, *prev, meta_reader_.from_stat(root_st), source);
    if (!kept.ok()) return fail(kept.error());
    if (*kept == Outcome::Vanished)
      return fail(make_error(ErrorKind::Io, "cannot read the attributes of " + source));
    progress_.entries++;
    stack_.push_back({source, join_point_path(*record), node, {root_st.st_dev, root_st.st_ino}});
  }
  while (!stack_.empty()) {
    DirTask d = std::move(stack_.back());
    stack_.pop_back();
    if (auto s = walk_dir(d); !s.ok()) return fail(s.error());
  }
  if (auto s = drain(true); !s.ok()) return fail(s.error());
  if (cancel_) return fail(make_error(ErrorKind::Cancelled, "import cancelled"));

  report_.host = o_.host;
  report_.at = o_.at;
  report_.kind = txn_.writer->kind();
  report_.seq = txn_.writer->seq();
  report_.entries = progress_.entries;
  report_.files_read = progress_.files_read;
  report_.files_unchanged = progress_.files_unchanged;
  report_.changed = progress_.entries_changed;
  report_.deleted = progress_.entries_deleted;
  report_.bytes_total = progress_.bytes_total;
  report_.bytes_read = progress_.bytes_read;
  report_.new_bytes = progress_.new_bytes;
  report_.stored_bytes = progress_.stored_bytes;
  report_.new_chunks = progress_.new_chunks;
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json stats = {{"entries", report_.entries},
                          {"files_read", report_.files_read},
                          {"files_unchanged", report_.files_unchanged},
                          {"changed", report_.changed},
                          {"deleted", report_.deleted},
                          {"bytes_total", report_.bytes_total},
                          {"bytes_read", report_.bytes_read},
                          {"new_bytes", report_.new_bytes},
                          {"stored_bytes", report_.stored_bytes},
                          {"skipped", report_.skipped.size()},
                          {"seconds", report_.seconds}};
  pool_.reset();
  if (auto s = txn_.commit(stats); !s.ok()) return fail(s.error());
  return report_;
}

}  // namespace

Result<DirImportReport> import_dir(store::Db& db, const DirImportOptions& options, ImportProgress& progress,
                                   const std::atomic<bool>& cancel) {
  DirImport imp(db, options, progress, cancel);
  return imp.run();
}

}  // namespace recall::import
