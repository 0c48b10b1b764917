#include "importers/manifest_importer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include "catalogd/store/catalog_writer.h"
#include "common/paths.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "importers/decompressed_reader.h"
#include "importers/manifest.h"
#include "importers/tree_image.h"

namespace recall::import {
namespace {

// Reads the manifest (plain or compressed, through DecompressedReader) line by line into
// the builder, hashing the file's bytes as they come: the manifest's identity.
Result<Manifest> read_manifest(const std::string& path, ImportProgress& progress,
                               const std::atomic<bool>& cancel, Digest& file_sha) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open " + path, errno);
  UniqueFd file(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(ErrorKind::Invalid, path + ": not a regular file");
  progress.bytes_total = static_cast<std::uint64_t>(st.st_size);
  {
    Sha256 sha;
    std::vector<std::uint8_t> buf(1 << 20);
    for (off_t off = 0;;) {
      ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read " + path, errno);
      if (n == 0) break;
      sha.update({buf.data(), static_cast<std::size_t>(n)});
      off += n;
    }
    file_sha = sha.finish();
  }
  if (::lseek(fd, 0, SEEK_SET) < 0) return io_error("cannot read " + path, errno);
  // Plain or compressed; a compressed one has its checks enforced to the end of the stream.
  auto reader = DecompressedReader::open(
      fd, path, [&progress](std::span<const std::uint8_t> raw) { progress.bytes_read += raw.size(); });
  if (!reader.ok()) return reader.error();
  ManifestBuilder b;
  std::string line;
  std::vector<char> buf(1 << 20);
  auto fail = [&](const Error& err) { return make_error(err.kind, path + ": " + err.message); };
  for (;;) {
    auto n = (*reader)->read(reinterpret_cast<std::uint8_t*>(buf.data()), buf.size());
    if (!n.ok()) return n.error();
    if (*n == 0) break;
    if (cancel) return make_error(ErrorKind::Cancelled, "import cancelled");
    std::string_view chunk(buf.data(), *n);
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      line.append(chunk.substr(0, nl));
      if (line.size() > kMaxManifestLine)
        return fail(
            make_error(ErrorKind::Invalid, "line " + std::to_string(b.lines() + 1) + ": longer than 1 MiB"));
      if (nl == std::string_view::npos) break;
      if (auto s = b.add_line(line); !s.ok()) return fail(s.error());
      line.clear();
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!line.empty())
    if (auto s = b.add_line(line); !s.ok()) return fail(s.error());
  auto m = b.finish();
  if (!m.ok()) return fail(m.error());
  return m;
}

FileMeta implied_dir(std::int64_t at_ns) {
  FileMeta m;
  m.type = FileType::Directory;
  m.mode = 0755;
  m.user = m.group = "root";
  m.mtime_ns = m.ctime_ns = at_ns;
  return m;
}

struct ArchiveVolume {
  std::int64_t id = 0;
  std::string kind, path;
};

class ManifestImport {
 public:
  ManifestImport(store::Db& db, const ManifestImportOptions& o, ImportProgress& p,
                 const std::atomic<bool>& cancel)
      : db_(db), o_(o), progress_(p), cancel_(cancel), chunker_(o.chunker) {}
  Result<nlohmann::json> run();

 private:
  Status apply_set(const ManifestSet& set, TreeImage& image, store::PointWriter& w, nlohmann::json& rep);
  // The content of a present file: known bytes, bytes in place on an archive volume, or a gap.
  Result<std::int64_t> resolve(const ManifestEntry& e, store::PointWriter& w, bool* available);
  Result<std::optional<ArchiveVolume>> volume(const std::string& volser);
  Result<std::int64_t> read_in_place(const ManifestEntry& e, const ManifestLocation& loc,
                                     const ArchiveVolume& v, store::PointWriter& w, std::string* why);

  store::Db& db_;
  const ManifestImportOptions& o_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;
  Chunker chunker_;
  Digest file_sha_{};
  const std::map<std::string, std::vector<ManifestEntry>>* rec_entries_ = nullptr;
  std::string set_id_;
  std::uint64_t next_ino_ = 1;
  std::map<std::string, std::optional<ArchiveVolume>> volumes_;
  nlohmann::json examples_ = nlohmann::json::array();  // a few unavailable files and why
  std::vector<std::string> warnings_;
};

Result<std::optional<ArchiveVolume>> ManifestImport::volume(const std::string& volser) {
  if (auto it = volumes_.find(volser); it != volumes_.end()) return it->second;
  auto q = db_.prepare("SELECT id, kind, path FROM volumes WHERE volser = ?1");
  if (!q.ok()) return q.error();
  q->bind(1, volser);
  auto r = q->step();
  if (!r.ok()) return r.error();
  std::optional<ArchiveVolume> v;
  if (*r) v = ArchiveVolume{q->i64(0), q->text(1), q->text(2)};
  volumes_[volser] = v;
  return v;
}

Result<std::int64_t> ManifestImport::read_in_place(const ManifestEntry& e, const ManifestLocation& loc,
                                                   const ArchiveVolume& v, store::PointWriter& w,
                                                   std::string* why) {
  const std::uint64_t size = e.meta.size, offset = *loc.offset;
  int fd = ::open(v.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = "volume " + loc.volume + " (" + v.path + ") cannot be opened: " + std::strerror(errno);
    return 0;
  }
  UniqueFd file(fd);
  std::vector<std::uint8_t> pending;
  std::vector<std::int64_t> ids;
  Sha256 whole;
  std::uint64_t done = 0, cut_at = 0;
  const std::size_t max = chunker_.params().max;
  std::vector<std::uint8_t> buf(1 << 20);
  while (done < size || !pending.empty()) {
    if (done < size) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - done));
      ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *why = "volume " + loc.volume + " ends before offset " + std::to_string(offset + size);
        return 0;
      }
      whole.update({buf.data(), static_cast<std::size_t>(n)});
      pending.insert(pending.end(), buf.begin(), buf.begin() + n);
      done += static_cast<std::uint64_t>(n);
      progress_.bytes_read += static_cast<std::uint64_t>(n);
    }
    const bool final = done == size;
    std::size_t used = 0;
    while (pending.size() - used >= max || (final && used < pending.size())) {
      std::span<const std::uint8_t> rest(pending.data() + used, pending.size() - used);
      const std::size_t n = chunker_.cut(rest);
      bool fresh = false;
      auto id = reference_in_place(w, sha256(rest.first(n)), static_cast<std::uint32_t>(n), v.id,
                                   offset + cut_at, &fresh);
      if (!id.ok()) return id.error();
      ids.push_back(*id);
      cut_at += n;
      used += n;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(used));
    if (cancel_) return make_error(ErrorKind::Cancelled, "import cancelled");
  }
  const Digest got = whole.finish();
  if (e.sha256 && *e.sha256 != got) {
    *why = "the " + std::to_string(size) + " bytes at offset " + std::to_string(offset) + " of volume " +
           loc.volume + " do not match the manifest's SHA-256";
    return 0;
  }
  if (auto known = w.find_content(got); !known.ok() || *known) {
    if (!known.ok()) return known.error();
    return **known;
  }
  return w.add_content(got, size, ids);
}

Result<std::int64_t> ManifestImport::resolve(const ManifestEntry& e, store::PointWriter& w, bool* available) {
  *available = true;
  if (e.meta.size == 0) {
    if (auto known = w.find_content(sha256(std::string_view())); !known.ok() || *known) {
      if (!known.ok()) return known.error();
      return **known;
    }
    return w.add_content(sha256(std::string_view()), 0, {});
  }
  if (e.sha256) {  // the same bytes imported before, from anywhere
    auto known = w.find_content(*e.sha256);
    if (!known.ok()) return known.error();
    if (*known) return **known;
  }
  std::string why = e.locations.empty() ? "the manifest gives no location" : "";
  for (const auto& loc : e.locations) {
    auto v = volume(loc.volume);
    if (!v.ok()) return v.error();
    std::string reason;
    if (!*v) {
      reason = "on volume " + loc.volume + ", which Recall does not know (import that volume first)";
    } else if ((*v)->kind != "archive") {
      reason = "on volume " + loc.volume + ", a Recall " + (*v)->kind +
               " volume: a manifest cannot point into Recall's own volumes";
    } else if (!loc.transform.empty()) {
      reason = "stored with '" + loc.transform.front() + "' on volume " + loc.volume +
               ", which Recall cannot undo";
    } else if (loc.container != "raw" && loc.container != "tar") {
      reason =
          "in a '" + loc.container + "' container on volume " + loc.volume + ", which Recall cannot read";
    } else if (!loc.offset) {
      reason = "on volume " + loc.volume + " without an offset";
    } else if (loc.length && *loc.length != e.meta.size) {
      reason = "on volume " + loc.volume + " as " + std::to_string(*loc.length) + " bytes for a file of " +
               std::to_string(e.meta.size);
    } else {
      auto id = read_in_place(e, loc, **v, w, &reason);
      if (!id.ok()) return id.error();
      if (reason.empty()) return *id;
    }
    if (why.empty()) why = reason;  // the primary copy's reason is the one to tell
  }
  // A gap: listed, not readable. Its digest is unique to this entry of this manifest.
  *available = false;
  Sha256 h;
  h.update(std::string_view("recall gap v1", 14));
  h.update({file_sha_.data(), file_sha_.size()});
  h.update(set_id_);
  h.update(std::string_view("\0", 1));
  h.update(join_point_path(e.parts));
  if (examples_.size() < 20)
    examples_.push_back(
        {{"set", set_id_}, {"path", escape_for_display(join_point_path(e.parts))}, {"reason", why}});
  return w.add_gap(h.finish(), e.meta.size, why, e.sha256);
}

Status ManifestImport::apply_set(const ManifestSet& set, TreeImage& image, store::PointWriter& w,
                                 nlohmann::json& rep) {
  set_id_ = set.id;
  const FileMeta implied = implied_dir(set.point_time_ns);
  std::uint64_t files = 0, available = 0, unavailable = 0;
  auto bad = [&](std::size_t line, const std::string& why) {
    return make_error(ErrorKind::Invalid, o_.manifest + ": line " + std::to_string(line) + ": " + why);
  };
  std::vector<const ManifestEntry*> links;
  struct Inode {
    std::uint64_t ino;
    std::int64_t content;
    bool available;
  };
  std::map<std::string, Inode> inodes;  // regular files by path, for hard links
  static const std::vector<ManifestEntry> kNone;
  auto it = rec_entries_->find(set.id);
  for (const auto& e : it == rec_entries_->end() ? kNone : it->second) {
    if (cancel_) return make_error(ErrorKind::Cancelled, "import cancelled");
    const std::string path = join_point_path(e.parts);
    if (e.state == ManifestEntry::State::Deleted) {
      if (!image.take(e.parts))
        warnings_.push_back("line " + std::to_string(e.line) + ": '" + escape_for_display(path) +
                            "' is deleted but was not there");
      continue;
    }
    if (e.state == ManifestEntry::State::Unchanged) {
      if (!image.find(e.parts))
        return bad(e.line,
                   "'" + escape_for_display(path) + "' is unchanged but its parent set does not have it");
      continue;
    }
    auto node = std::make_unique<ImageNode>();
    node->meta = e.meta;
    if (!e.has_mtime) node->meta.mtime_ns = node->meta.ctime_ns = set.point_time_ns;
    node->meta.ino = next_ino_++;
    if (!e.hardlink_to.empty()) {
      links.push_back(&e);
      continue;
    }
    if (node->meta.type == FileType::Regular) {
      bool ok = false;
      auto c = resolve(e, w, &ok);
      if (!c.ok()) return c.error();
      node->content_id = *c;
      files++;
      (ok ? available : unavailable)++;
      inodes[path] = {node->meta.ino, node->content_id, ok};
    }
    if (e.parts.empty() && !is_dir(node->meta)) return bad(e.line, "the root '/' must be a directory");
    if (ImageNode* existing = image.find(e.parts); existing && is_dir(existing->meta) && is_dir(node->meta)) {
      existing->meta = std::move(node->meta);  // a directory keeps what is below it
      continue;
    }
    auto put = image.put(e.parts, std::move(node), implied);
    if (!put.ok()) return bad(e.line, put.error().message);
  }
  for (const ManifestEntry* e : links) {  // after their targets, wherever those were listed
    auto t = inodes.find(e->hardlink_to);
    if (t == inodes.end())
      return bad(e->line,
                 "hardlink_to '" + escape_for_display(e->hardlink_to) + "' is not a file of this set");
    auto node = std::make_unique<ImageNode>();
    node->meta = image.find(*split_point_path(e->hardlink_to))->meta;
    node->meta.ino = t->second.ino;
    node->content_id = t->second.content;
    files++;
    (t->second.available ? available : unavailable)++;
    auto put = image.put(e->parts, std::move(node), implied);
    if (!put.ok()) return bad(e->line, put.error().message);
  }
  image.count_links();
  auto written = write_image(w, image, progress_);
  if (!written.ok()) return written.error();
  rep = {{"set", set.id},
         {"host", set.host},
         {"at", format_utc(static_cast<UnixTime>(set.point_time_ns / 1'000'000'000))},
         {"seq", w.seq()},
         {"kind", w.kind()},
         {"entries", written->entries},
         {"changed", written->changed},
         {"unchanged", written->unchanged},
         {"deleted", written->deleted},
         {"files", files},
         {"available", available},
         {"unavailable", unavailable}};
  if (!set.label.empty()) rep["label"] = set.label;
  return {};
}

Result<nlohmann::json> ManifestImport::run() {
  const auto started = std::chrono::steady_clock::now();
  if (o_.manifest.empty() || o_.manifest.front() != '/')
    return make_error(ErrorKind::Invalid, "manifest path '" + o_.manifest + "' must be absolute");
  auto m = read_manifest(o_.manifest, progress_, cancel_, file_sha_);
  if (!m.ok()) return m.error();
  rec_entries_ = &m->entries;
  const std::string source = "sha256:" + to_hex(file_sha_) + " " + o_.manifest;
  nlohmann::json out = {{"importer", "manifest"}, {"manifest", o_.manifest}, {"source", m->header.source}};

  // The same manifest (by its bytes) imported before: nothing to do.
  {
    auto q = db_.prepare(
        "SELECT h.name, p.at FROM backup_sets s JOIN points p ON p.set_id = s.id JOIN hosts h ON h.id = "
        "p.host_id "
        "WHERE s.importer = 'manifest' AND s.status = 'complete' AND substr(s.source, 1, 71) = ?1 "
        "ORDER BY p.at LIMIT 1");
    if (!q.ok()) return q.error();
    q->bind(1, source.substr(0, 71));
    auto r = q->step();
    if (!r.ok()) return r.error();
    if (*r) {
      out["already_imported"] = true;
      out["already_as"] = q->text(0) + " at " + format_utc(q->i64(1));
      return out;
    }
  }

  // Older sets first, so a parent is recorded before the sets that build on it.
  std::vector<const ManifestSet*> order;
  for (const auto& s : m->sets) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const ManifestSet* a, const ManifestSet* b) {
    return a->point_time_ns < b->point_time_ns;
  });
  std::set<std::string> parents;  // only their images are kept for later sets
  for (const auto& s : m->sets)
    if (!s.parent.empty()) parents.insert(s.parent);
  auto txn = store::Transaction::begin(db_);  // all sets, or none
  if (!txn.ok()) return txn.error();
  std::map<std::string, TreeImage> images;  // by set id: the state a child set starts from
  nlohmann::json sets = nlohmann::json::array();
  std::uint64_t unavailable = 0;
  for (const ManifestSet* set : order) {
    TreeImage image =
        set->parent.empty() || set->kind == "full" ? TreeImage() : images.at(set->parent).clone();
    if (set->parent.empty() || set->kind == "full") image.root().meta = implied_dir(set->point_time_ns);
    const UnixTime at = static_cast<UnixTime>(set->point_time_ns / 1'000'000'000);
    next_ino_ = 1;
    auto w = store::PointWriter::begin(db_, {set->host, at, "manifest", source, set->kind});
    if (!w.ok())
      return make_error(w.error().kind, o_.manifest + ": set '" + set->id + "' (line " +
                                            std::to_string(set->line) + "): " + w.error().message);
    next_ino_ = (static_cast<std::uint64_t>(w->seq()) << 32) | 1;
    nlohmann::json rep;
    RECALL_TRY(apply_set(*set, image, *w, rep));
    unavailable += rep["unavailable"].get<std::uint64_t>();
    nlohmann::json stats = rep;
    stats["manifest"] = o_.manifest;
    RECALL_TRY(w->commit(stats.dump()));  // a savepoint: kept for the outer commit
    sets.push_back(std::move(rep));
    if (parents.count(set->id)) images.emplace(set->id, std::move(image));
  }
  if (cancel_) return make_error(ErrorKind::Cancelled, "import cancelled");
  RECALL_TRY(txn->commit());
  out.update(
      {{"already_imported", false},
       {"sets", sets},
       {"unavailable", unavailable},
       {"unavailable_examples", examples_},
       {"warnings", warnings_},
       {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
  return out;
}

}  // namespace

Result<nlohmann::json> import_manifest(store::Db& db, const ManifestImportOptions& options,
                                       ImportProgress& progress, const std::atomic<bool>& cancel) {
  ManifestImport imp(db, options, progress, cancel);
  return imp.run();
}

}  // namespace recall::import
