#include "importers/tar_importer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "catalogd/store/catalog_writer.h"
#include "common/paths.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "importers/chunk_store.h"
#include "importers/decompressed_reader.h"
#include "importers/dumpdir.h"
#include "importers/import_txn.h"
#include "importers/in_place_hasher.h"
#include "importers/pax_dumpdirs.h"
#include "importers/tree_image.h"

namespace recall::import {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

// libarchive's source. A compressed archive is decompressed by Recall (DecompressedReader:
// every integrity check enforced to the end of the stream) and read whole, hashing every byte
// of the file on the way (the archive's identity); libarchive sees the tar stream only. An
// uncompressed one is read for its headers only: libarchive skips over member data (a seek),
// which the InPlaceHasher's workers read and hash where it lies.
struct RawSource {
  RawSource(int fd, ImportProgress& progress, const std::atomic<bool>& cancel)
      : fd(fd), progress(&progress), cancel(&cancel) {}
  int fd;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(64 << 10);
  std::optional<Sha256> sha{std::in_place};  // of the file's bytes, as read
  bool hashing = true;                       // false once the archive is known to be uncompressed
  ImportProgress* progress;
  const std::atomic<bool>* cancel;
  std::unique_ptr<DecompressedReader> decompressed;  // set for a compressed archive
  std::optional<Error> failure;                      // what the decompressor found, if anything

  // Why libarchive failed, when the cause is damage: damaged bytes often look like a broken tar
  // header before the check that fails on them comes, so the decompressor's verdict over the
  // rest of the stream is the truer reason. nullopt when the stream is whole (or not compressed).
  std::optional<Error> damage() {
    if (!failure && decompressed)
      if (auto s = decompressed->drain(); !s.ok()) failure = s.error();
    return failure;
  }

  static la_ssize_t read(archive* a, void* self, const void** out) {
    auto* s = static_cast<RawSource*>(self);
    if (s->cancel->load(std::memory_order_relaxed)) {
      archive_set_error(a, ECANCELED, "import cancelled");
      return -1;
    }
    if (s->decompressed) {
      auto n = s->decompressed->read(s->buf.data(), s->buf.size());
      if (!n.ok()) {
        s->failure = n.error();
        archive_set_error(a, EIO, "%s", n.error().message.c_str());
        return -1;
      }
      *out = s->buf.data();
      return static_cast<la_ssize_t>(*n);
    }
    for (;;) {
      ssize_t n = ::read(s->fd, s->buf.data(), s->buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        archive_set_error(a, errno, "read error");
        return -1;
      }
      if (s->hashing) {
        s->sha->update({s->buf.data(), static_cast<std::size_t>(n)});
        s->progress->bytes_read += static_cast<std::uint64_t>(n);
      }
      *out = s->buf.data();
      return n;
    }
  }
  // Skips forward without reading; refused (libarchive then reads) while every byte is hashed.
  static la_int64_t skip(archive*, void* self, la_int64_t request) {
    auto* s = static_cast<RawSource*>(self);
    if (s->hashing || request <= 0) return 0;
    if (::lseek(s->fd, static_cast<off_t>(request), SEEK_CUR) < 0) return 0;
    return request;
  }
};

// SHA-256 of a whole file: the identity of a compressed archive, taken up front.
Result<Digest> hash_file(int fd, const std::string& path) {
  Sha256 sha;
  std::vector<std::uint8_t> buf(1 << 20);
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read " + path, errno);
    if (n == 0) return sha.finish();
    sha.update({buf.data(), static_cast<std::size_t>(n)});
    off += n;
  }
}

bool is_pax(archive* a) {
  const int f = archive_format(a);
  return f == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE || f == ARCHIVE_FORMAT_TAR_PAX_RESTRICTED;
}

// A header's time as nanoseconds since the epoch. Times the catalog cannot hold (before 1678 or
// after 2262: tar allows any) are recorded at the nearest whole second in that range.
std::int64_t header_time_ns(std::int64_t sec, long nsec, bool* clamped) {
  constexpr std::int64_t kLimit = 9'223'372'035'000'000'000;
  std::int64_t ns;
  if (__builtin_mul_overflow(sec, std::int64_t{1'000'000'000}, &ns) ||
      __builtin_add_overflow(ns, nsec, &ns) || ns > kLimit || ns < -kLimit) {
    *clamped = true;
    return sec < 0 ? -kLimit : kLimit;
  }
  return ns;
}

// Whether a member of an uncompressed archive is hashed where it lies by the InPlaceHasher: a
// plain regular file. Sparse members (their holes are not in the file) and pax hard links that
// carry data are read through libarchive. The identity of an archive depends on this choice, so
// the import and the re-import check share it.
bool hashed_in_place(archive_entry* e) {
  return archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
         archive_entry_sparse_reset(e) == 0 && archive_entry_size_is_set(e) && archive_entry_size(e) >= 0;
}

int hash_threads() { return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u)); }

// Opens `fd` (rewound) for libarchive through `src`; says whether the stream is uncompressed.
Result<bool> open_archive(archive* a, RawSource& src, const std::string& name) {
  if (::lseek(src.fd, 0, SEEK_SET) < 0) return io_error("cannot read " + name, errno);
  auto dec = DecompressedReader::open(src.fd, name, [&src](std::span<const std::uint8_t> raw) {
    src.sha->update(raw);
    src.progress->bytes_read += raw.size();
  });
  if (!dec.ok()) return dec.error();
  if ((*dec)->compressed()) {
    src.decompressed = std::move(*dec);
  } else {  // read as it lies: start again from the top
    src.sha.emplace();
    src.progress->bytes_read = 0;
    if (::lseek(src.fd, 0, SEEK_SET) < 0) return io_error("cannot read " + name, errno);
  }
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_set_read_callback(a, &RawSource::read);
  archive_read_set_skip_callback(a, &RawSource::skip);
  archive_read_set_callback_data(a, &src);
  if (archive_read_open1(a) != ARCHIVE_OK) {
    if (auto damaged = src.damage()) return *damaged;
    const char* msg = archive_error_string(a);
    return make_error(ErrorKind::Invalid, name + ": not a tar archive: " + (msg ? msg : "unreadable"));
  }
  const bool plain = !src.decompressed;
  if (plain) {
    src.hashing = false;
    src.progress->bytes_read = 0;  // from here on the hasher's workers count the bytes
  }
  return plain;
}

// Directories the archive implies but does not list (data/x without data/): owned by root,
// 0755, as old as the point.
FileMeta implied_dir(UnixTime at) {
  FileMeta m;
  m.type = FileType::Directory;
  m.mode = 0755;
  m.user = "root";
  m.group = "root";
  bool clamped = false;
  m.mtime_ns = m.ctime_ns = header_time_ns(at, 0, &clamped);
  return m;
}

AclEntry::Tag acl_tag(int tag) {
  switch (tag) {
    case ARCHIVE_ENTRY_ACL_USER_OBJ:
      return AclEntry::Tag::UserObj;
    case ARCHIVE_ENTRY_ACL_USER:
      return AclEntry::Tag::User;
    case ARCHIVE_ENTRY_ACL_GROUP_OBJ:
      return AclEntry::Tag::GroupObj;
    case ARCHIVE_ENTRY_ACL_GROUP:
      return AclEntry::Tag::Group;
    case ARCHIVE_ENTRY_ACL_MASK:
      return AclEntry::Tag::Mask;
    default:
      return AclEntry::Tag::Other;
  }
}

// A POSIX.1e ACL of the entry in the order libacl lists one (the dir importer's order).
std::vector<AclEntry> read_acl(archive_entry* e, int type) {
  std::vector<AclEntry> out;
  if (archive_entry_acl_reset(e, type) == 0) return out;
  int t, permset, tag, qual;
  const char* name;
  while (archive_entry_acl_next(e, type, &t, &permset, &tag, &qual, &name) == ARCHIVE_OK) {
    AclEntry a;
    a.tag = acl_tag(tag);
    if (a.tag == AclEntry::Tag::User || a.tag == AclEntry::Tag::Group)
      a.id = static_cast<std::uint32_t>(qual);
    if (name && (a.tag == AclEntry::Tag::User || a.tag == AclEntry::Tag::Group)) a.name = name;
    a.perm = static_cast<std::uint8_t>(((permset & ARCHIVE_ENTRY_ACL_READ) ? 4 : 0) |
                                       ((permset & ARCHIVE_ENTRY_ACL_WRITE) ? 2 : 0) |
                                       ((permset & ARCHIVE_ENTRY_ACL_EXECUTE) ? 1 : 0));
    out.push_back(std::move(a));
  }
  std::stable_sort(out.begin(), out.end(), [](const AclEntry& x, const AclEntry& y) {
    return x.tag != y.tag ? x.tag < y.tag : x.id < y.id;
  });
  // Only the three entries the mode bits already say: not an extended ACL.
  if (type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && out.size() <= 3) out.clear();
  return out;
}

class TarImport {
 public:
  TarImport(store::Db& db, const TarImportOptions& o, ImportProgress& p, const std::atomic<bool>& cancel)
      : db_(db), o_(o), progress_(p), cancel_(cancel) {}
  Result<TarImportReport> run();

 private:
  Error bad(const std::string& why) const { return make_error(ErrorKind::Invalid, o_.archive + ": " + why); }
  Error member_error(const std::string& member, const std::string& why) const {
    return bad("member '" + escape_for_display(member) + "': " + why);
  }
  Error archive_failure(archive* a, const std::string& where) const {
    const char* msg = archive_error_string(a);
    std::string why = msg ? msg : "unreadable";
    ErrorKind kind = cancel_ ? ErrorKind::Cancelled : ErrorKind::Invalid;
    if (cancel_) return make_error(kind, "import cancelled");
    if (source_)
      if (auto damaged = source_->damage()) return *damaged;
    return make_error(kind, o_.archive + ": " + where + ": " + why);
  }
  Result<std::vector<std::string>> place(const std::string& member);
  FileMeta meta_of(archive_entry* e);
  Status read_member(archive* a, archive_entry* e, const std::string& member, ImageNode& node);
  Status emit_chunk(std::span<const std::uint8_t> data, std::uint64_t at_offset, bool in_place,
                    std::vector<std::int64_t>& ids);
  Status apply_dumpdir(const std::vector<std::string>& dir, std::string_view data, const std::string& member);
  Status seed_from_previous();
  Status add_hashed(archive* a, archive_entry* e, ImageNode& node);
  Status take_hashed(bool wait);
  Status record_segment(const HashedSegment& seg);
  Status record_hashed(const HashedMember& m);
  Result<std::int64_t> chunk_in_place(const Digest& sha, std::uint32_t size, std::uint64_t offset);
  void resolve_hashed();
  Result<std::optional<store::KnownArchive>> imported_before(int fd);
  const PaxDumpdirs& pax_dumpdirs();
  TarImportReport already(const store::KnownArchive& known) {
    TarImportReport r;
    r.host = o_.host;
    r.archive = o_.archive;
    r.already_imported = true;
    r.volser = known.volser;
    r.already_as = known.host + " at " + format_utc(known.at);
    return r;
  }

  store::Db& db_;
  const TarImportOptions& o_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;
  ImportTxn txn_;
  Chunker chunker_{};
  TreeImage image_;
  TarImportReport report_;
  std::vector<std::string> prefix_;
  FileMeta implied_;
  std::int64_t archive_vol_ = 0;
  bool in_place_ = false;
  RawSource* source_ = nullptr;  // the import's source, for what its decompressor found
  bool incremental_ = false;
  bool prefix_has_dumpdir_ = false;
  std::set<std::string> top_seen_;  // first components below the prefix that members named
  std::uint64_t next_ino_ = 1;
  std::unordered_map<Digest, std::int64_t, DigestHash> chunk_ids_;
  std::vector<std::uint8_t> pending_;  // bytes of the current member not yet cut into chunks
  bool warned_absolute_ = false;
  std::uint64_t member_bytes_ = 0;  // plain bytes of all regular members
  // Uncompressed archives: members hashed by workers. Until their hashes come back a node's
  // content_id is -(index + 1), an index into hashed_content_.
  std::unique_ptr<InPlaceHasher> hasher_;
  std::vector<std::int64_t> hashed_content_;
  std::unordered_map<Digest, std::int64_t, DigestHash> content_ids_;
  std::optional<PaxDumpdirs> pax_dumpdirs_;  // read when the first pax directory comes
  std::uint64_t times_clamped_ = 0;          // members with times the catalog cannot hold
  std::string first_clamped_;
};

// Segments hashed ahead of the catalog writes wait in memory; past this many the reading of
// headers waits for the catalog.
constexpr std::size_t kMaxSegmentsAhead = 16;

Result<std::vector<std::string>> TarImport::place(const std::string& member) {
  bool absolute = false;
  auto parts = member_parts(member, &absolute);
  if (!parts.ok()) return bad(parts.error().message);
  if (absolute && !warned_absolute_) {
    warned_absolute_ = true;
    report_.warnings.push_back("leading '/' removed from member names (as tar does), e.g. '" +
                               escape_for_display(member) + "'");
  }
  if (!parts->empty()) top_seen_.insert(parts->front());
  std::vector<std::string> out = prefix_;
  out.insert(out.end(), parts->begin(), parts->end());
  return out;
}

FileMeta TarImport::meta_of(archive_entry* e) {
  FileMeta m;
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      m.type = FileType::Directory;
      break;
    case AE_IFLNK:
      m.type = FileType::Symlink;
      break;
    case AE_IFCHR:
      m.type = FileType::CharDevice;
      break;
    case AE_IFBLK:
      m.type = FileType::BlockDevice;
      break;
    case AE_IFIFO:
      m.type = FileType::Fifo;
      break;
    case AE_IFSOCK:
      m.type = FileType::Socket;
      break;
    default:
      m.type = FileType::Regular;
      break;
  }
  m.mode = static_cast<std::uint32_t>(archive_entry_perm(e)) & 07777;
  m.uid = static_cast<std::uint32_t>(archive_entry_uid(e));
  m.gid = static_cast<std::uint32_t>(archive_entry_gid(e));
  if (const char* u = archive_entry_uname(e)) m.user = u;
  if (const char* g = archive_entry_gname(e)) m.group = g;
  bool clamped = false;
  m.mtime_ns = header_time_ns(archive_entry_mtime(e), archive_entry_mtime_nsec(e), &clamped);
  m.ctime_ns = archive_entry_ctime_is_set(e)
                   ? header_time_ns(archive_entry_ctime(e), archive_entry_ctime_nsec(e), &clamped)
                   : m.mtime_ns;
  if (clamped && times_clamped_++ == 0) {
    const char* name = archive_entry_pathname(e);
    first_clamped_ = name ? name : "";
  }
  if (m.type == FileType::CharDevice || m.type == FileType::BlockDevice)
    m.rdev = static_cast<std::uint64_t>(archive_entry_rdev(e));
  if (m.type == FileType::Symlink) {
    if (const char* t = archive_entry_symlink(e)) m.link_target = t;
    m.size = m.link_target.size();
  }
  if (archive_entry_xattr_reset(e) > 0) {
    const char* name;
    const void* value;
    std::size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      std::string n = name;
      if (n.rfind("system.posix_acl_", 0) == 0) continue;  // libarchive gives those as ACLs
      m.xattrs.emplace_back(std::move(n), std::string(static_cast<const char*>(value), size));
    }
    std::sort(m.xattrs.begin(), m.xattrs.end());
  }
  if (m.type != FileType::Symlink) m.acl = read_acl(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS);
  if (m.type == FileType::Directory) m.default_acl = read_acl(e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT);
  return m;
}

Status TarImport::emit_chunk(std::span<const std::uint8_t> data, std::uint64_t at_offset, bool in_place,
                             std::vector<std::int64_t>& ids) {
  const Digest sha = sha256(data);
  if (in_place) {
    auto ref = chunk_in_place(sha, static_cast<std::uint32_t>(data.size()), at_offset);
    if (!ref.ok()) return ref.error();
    ids.push_back(*ref);
    return {};
  }
  if (auto it = chunk_ids_.find(sha); it != chunk_ids_.end()) {
    ids.push_back(it->second);
    return {};
  }
  auto put =
      txn_.chunks->put(PreparedChunk{sha, static_cast<std::uint32_t>(data.size()), std::nullopt}, data);
  if (!put.ok()) return put.error();
  if (chunk_ids_.size() > 1'000'000) chunk_ids_.clear();
  chunk_ids_.emplace(sha, *put);
  ids.push_back(*put);
  return {};
}

Result<std::int64_t> TarImport::chunk_in_place(const Digest& sha, std::uint32_t size, std::uint64_t offset) {
  if (auto it = chunk_ids_.find(sha); it != chunk_ids_.end()) {
    // One location per chunk and archive is enough: the same bytes twice in one archive are
    // not a second copy that survives the archive's loss.
    return it->second;
  }
  bool fresh = false;
  auto id = reference_in_place(*txn_.writer, sha, size, archive_vol_, offset, &fresh);
  if (!id.ok()) return id.error();
  if (fresh) {
    progress_.new_chunks++;
    report_.referenced_bytes += size;
  }
  if (chunk_ids_.size() > 1'000'000) chunk_ids_.clear();
  chunk_ids_.emplace(sha, *id);
  return *id;
}

Status TarImport::add_hashed(archive* a, archive_entry* e, ImageNode& node) {
  const std::uint64_t size = static_cast<std::uint64_t>(archive_entry_size(e));
  const std::size_t index = hashed_content_.size();
  hashed_content_.push_back(0);
  hasher_->add(index, static_cast<std::uint64_t>(archive_filter_bytes(a, 0)), size);
  node.content_id = -static_cast<std::int64_t>(index) - 1;
  node.meta.size = size;
  member_bytes_ += size;
  RECALL_TRY(take_hashed(false));
  HashedSegment seg;
  while (hasher_->outstanding() > kMaxSegmentsAhead && hasher_->next(seg, true))
    RECALL_TRY(record_segment(seg));
  return {};
}

Status TarImport::take_hashed(bool wait) {
  HashedSegment seg;
  while (hasher_->next(seg, wait)) RECALL_TRY(record_segment(seg));
  return {};
}

Status TarImport::record_segment(const HashedSegment& seg) {
  if (seg.error) return *seg.error;
  for (const auto& m : seg.members) RECALL_TRY(record_hashed(m));
  return {};
}

Status TarImport::record_hashed(const HashedMember& m) {
  std::int64_t id;
  if (auto it = content_ids_.find(m.content); it != content_ids_.end()) {
    id = it->second;
  } else {
    std::vector<std::int64_t> ids;
    ids.reserve(m.chunks.size());
    for (const auto& c : m.chunks) {
      auto chunk = chunk_in_place(c.sha, c.size, c.offset);
      if (!chunk.ok()) return chunk.error();
      ids.push_back(*chunk);
    }
    bool fresh = false;
    auto interned = txn_.writer->intern_content(m.content, m.size, ids, true, &fresh);
    if (!interned.ok()) return interned.error();
    id = *interned;
    if (content_ids_.size() > 1'000'000) content_ids_.clear();
    content_ids_.emplace(m.content, id);
  }
  hashed_content_[m.index] = id;
  progress_.files_read++;
  return {};
}

Result<std::optional<store::KnownArchive>> TarImport::imported_before(int fd) {
  auto q = db_.prepare("SELECT count(*) FROM volumes WHERE kind = 'archive' AND bytes = ?1");
  if (!q.ok()) return q.error();
  q->bind(1, static_cast<std::int64_t>(report_.archive_bytes));
  auto r = q->step();
  if (!r.ok()) return r.error();
  if (q->i64(0) == 0) return std::optional<store::KnownArchive>();
  // The identity the import would record: the hasher's for an uncompressed archive (headers
  // read, members hashed, nothing written), a plain SHA-256 of the file otherwise.
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  RawSource src(fd, progress_, cancel_);
  auto plain = open_archive(a.get(), src, o_.archive);
  if (!plain.ok()) return plain.error();
  Digest identity;
  if (!*plain) {
    auto sha = hash_file(fd, o_.archive);
    if (!sha.ok()) return sha.error();
    identity = *sha;
  } else {
    InPlaceHasher hasher(fd, o_.archive, o_.chunker, hash_threads(), progress_, cancel_);
    std::size_t index = 0;
    HashedSegment seg;
    auto drain = [&](bool wait) -> Status {
      while (hasher.next(seg, wait))
        if (seg.error) return *seg.error;
      return {};
    };
    for (;;) {
      archive_entry* e = nullptr;
      int rc = archive_read_next_header(a.get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return archive_failure(a.get(), "after member " + std::to_string(index));
      if (hashed_in_place(e))
        hasher.add(index++, static_cast<std::uint64_t>(archive_filter_bytes(a.get(), 0)),
                   static_cast<std::uint64_t>(archive_entry_size(e)));
      RECALL_TRY(drain(false));
    }
    hasher.finish(report_.archive_bytes);
    RECALL_TRY(drain(true));
    identity = hasher.identity();
  }
  progress_.bytes_read = 0;
  return store::find_archive(db_, identity);
}

const PaxDumpdirs& TarImport::pax_dumpdirs() {
  if (!pax_dumpdirs_) {
    auto lists = read_pax_dumpdirs(o_.archive, !in_place_);
    if (lists.ok()) {
      pax_dumpdirs_ = std::move(*lists);
    } else {
      pax_dumpdirs_.emplace();
      report_.warnings.push_back("cannot look for GNU dump lists in the pax headers (" +
                                 lists.error().message + "): imported as a plain archive");
    }
  }
  return *pax_dumpdirs_;
}

void TarImport::resolve_hashed() {
  image_.each([&](ImageNode& n) {
    if (n.content_id < 0) n.content_id = hashed_content_[static_cast<std::size_t>(-n.content_id - 1)];
  });
}

Status TarImport::read_member(archive* a, archive_entry* e, const std::string& member, ImageNode& node) {
  const std::uint64_t size = static_cast<std::uint64_t>(archive_entry_size(e));
  // Where the member's bytes start in the archive file: right after its header (and any
  // extension headers before it), since the stream is not compressed.
  const std::uint64_t data_start = static_cast<std::uint64_t>(archive_filter_bytes(a, 0));
  const bool sparse = archive_entry_sparse_reset(e) > 0;
  const bool in_place = in_place_ && !sparse;
  const std::size_t max = chunker_.params().max;
  Sha256 whole;
  std::vector<std::int64_t> ids;
  std::uint64_t logical = 0;  // bytes of the member seen so far (holes as zeros)
  std::uint64_t cut_at = 0;   // logical offset of pending_[0]
  pending_.clear();
  auto cut = [&](bool final) -> Status {
    std::size_t used = 0;
    while (pending_.size() - used >= max || (final && used < pending_.size())) {
      std::span<const std::uint8_t> rest(pending_.data() + used, pending_.size() - used);
      std::size_t n = chunker_.cut(rest);
      RECALL_TRY(emit_chunk(rest.first(n), data_start + cut_at, in_place, ids));
      cut_at += n;
      used += n;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
    return {};
  };
  // A hole of a sparse member reads as zeros, hashed and chunked like data.
  auto zeros = [&](std::uint64_t n) -> Status {
    static const std::vector<std::uint8_t> kZeros(256 << 10, 0);
    while (n > 0) {
      std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, kZeros.size()));
      pending_.insert(pending_.end(), kZeros.begin(), kZeros.begin() + static_cast<std::ptrdiff_t>(k));
      whole.update({kZeros.data(), k});
      logical += k;
      n -= k;
      RECALL_TRY(cut(false));
    }
    return {};
  };
  for (;;) {
    const void* buf;
    std::size_t len;
    la_int64_t off;
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archive_failure(a, "member '" + escape_for_display(member) + "'");
    if (off < 0 || static_cast<std::uint64_t>(off) < logical)
      return member_error(member, "data blocks out of order");
    if (static_cast<std::uint64_t>(off) > logical) {
      if (!sparse) return member_error(member, "data has a gap but the member is not sparse");
      RECALL_TRY(zeros(static_cast<std::uint64_t>(off) - logical));
    }
    auto bytes = std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(buf), len);
    whole.update(bytes);
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    logical += len;
    RECALL_TRY(cut(false));
    if (cancel_) return make_error(ErrorKind::Cancelled, "import cancelled");
  }
  if (logical < size && sparse) RECALL_TRY(zeros(size - logical));  // a trailing hole
  RECALL_TRY(cut(true));
  if (logical != size)
    return member_error(member, "header says " + std::to_string(size) + " bytes, the archive holds " +
                                    std::to_string(logical));
  const Digest content = whole.finish();
  bool fresh = false;
  auto c = txn_.writer->intern_content(content, size, ids, true, &fresh);
  if (!c.ok()) return c.error();
  node.content_id = *c;
  node.meta.size = size;
  progress_.files_read++;
  member_bytes_ += size;
  return {};
}

Status TarImport::seed_from_previous() {
  auto prev = load_previous_point(*txn_.writer);
  if (!prev.ok()) return prev.error();
  // What was placed before the first dumpdir (normally nothing: tar writes directories first).
  TreeImage seeded = std::move(*prev);
  for (auto& [name, child] : image_.root().children) {
    auto r = seeded.put({name}, std::move(child), implied_);
    if (!r.ok()) return r.error();
  }
  image_ = std::move(seeded);
  return {};
}

Status TarImport::apply_dumpdir(const std::vector<std::string>& dir, std::string_view data,
                                const std::string& member) {
  auto entries = parse_dumpdir(data);
  if (!entries.ok()) return member_error(member, entries.error().message);
  if (!incremental_) {
    incremental_ = true;
    RECALL_TRY(seed_from_previous());
  }
  if (dir == prefix_) prefix_has_dumpdir_ = true;
  // Renames first: R names what moves, T where to (an empty name is the temporary slot).
  std::unique_ptr<ImageNode> moving, slot;
  for (const auto& e : *entries) {
    if (e.code != 'R' && e.code != 'T') continue;
    std::vector<std::string> parts;
    if (!e.name.empty()) {
      auto p = member_parts(e.name, nullptr);
      if (!p.ok()) return member_error(member, "rename: " + p.error().message);
      parts = prefix_;
      parts.insert(parts.end(), p->begin(), p->end());
    }
    if (e.code == 'R') {
      moving = e.name.empty() ? std::move(slot) : image_.take(parts);
    } else if (e.name.empty()) {
      slot = std::move(moving);
    } else if (moving) {
      auto put = image_.put(parts, std::move(moving), implied_);
      if (!put.ok()) return member_error(member, "rename: " + put.error().message);
    }
  }
  auto node = image_.ensure_dir(dir, implied_);
  if (!node.ok()) {
    image_.take(dir);  // a file became a directory
    node = image_.ensure_dir(dir, implied_);
    if (!node.ok()) return member_error(member, node.error().message);
  }
  std::set<std::string> listed;
  for (const auto& e : *entries) {
    if (e.code != 'Y' && e.code != 'N' && e.code != 'D') continue;
    listed.insert(e.name);
    auto& child = (*node)->children[e.name];
    if (e.code == 'D' && (!child || !is_dir(child->meta))) {
      child = std::make_unique<ImageNode>();
      child->meta = implied_;
    } else if (!child && e.code == 'N') {
      report_.warnings.push_back("'" + escape_for_display(member + e.name) +
                                 "' is listed as unchanged but no earlier point has it (is an archive of the "
                                 "chain missing?)");
      (*node)->children.erase(e.name);
    } else if (!child) {
      (*node)->children.erase(e.name);  // comes as a member below
    }
  }
  for (auto it = (*node)->children.begin(); it != (*node)->children.end();)
    it = listed.count(it->first) ? std::next(it) : (*node)->children.erase(it);
  return {};
}

Result<TarImportReport> TarImport::run() {
  auto started = std::chrono::steady_clock::now();
  if (o_.archive.empty() || o_.archive.front() != '/')
    return make_error(ErrorKind::Invalid, "archive path '" + o_.archive + "' must be absolute");
  auto prefix = split_point_path(o_.prefix.empty() ? "/" : o_.prefix);
  if (!prefix.ok())
    return make_error(ErrorKind::Invalid, "--prefix '" + o_.prefix + "': " + prefix.error().message);
  prefix_ = *prefix;
  int fd = ::open(o_.archive.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open " + o_.archive, errno);
  UniqueFd file(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) return io_error("cannot stat " + o_.archive, errno);
  if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::Invalid, o_.archive + ": not a regular file");
  progress_.bytes_total = static_cast<std::uint64_t>(st.st_size);  // the bar follows the archive's bytes
  report_.archive = o_.archive;
  report_.archive_bytes = static_cast<std::uint64_t>(st.st_size);
  report_.host = o_.host;
  report_.at = o_.at ? o_.at : static_cast<UnixTime>(st.st_mtime);
  implied_ = implied_dir(report_.at);

  // The same archive imported before (under any name) is not imported twice. Only an archive
  // volume of the same size can be the same, so its identity is taken up front only then
  // (before the point's time could clash with the earlier import's); otherwise on the way.
  auto before = imported_before(fd);
  if (!before.ok()) return before.error();
  if (*before) return already(**before);

  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  RawSource src(fd, progress_, cancel_);
  auto plain = open_archive(a.get(), src, o_.archive);
  if (!plain.ok()) return plain.error();
  in_place_ = *plain;
  source_ = &src;
  if (in_place_)
    hasher_ = std::make_unique<InPlaceHasher>(fd, o_.archive, o_.chunker, hash_threads(), progress_, cancel_);

  auto w = store::PointWriter::begin(db_, {o_.host, report_.at, "tar", o_.archive});
  if (!w.ok()) return w.error();
  txn_.open(std::move(*w), o_.pool_dir, progress_, o_.zstd_level);
  chunker_ = Chunker(o_.chunker);
  next_ino_ = (static_cast<std::uint64_t>(txn_.writer->seq()) << 32) | 1;
  auto fail = [&](Error e) -> Result<TarImportReport> { return txn_.fail(std::move(e)); };

  bool first = true;
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (first) return fail(archive_failure(a.get(), "not a tar archive"));
      return fail(archive_failure(a.get(), "after member " + std::to_string(report_.members)));
    }
    if (first) {
      first = false;
      report_.in_place = in_place_;
      // Members of a compressed archive go into the pool: the volumes must describe the point.
      txn_.record_point = !in_place_;
      report_.compression = in_place_ ? "none" : src.decompressed->format();
      auto volser = store::next_volser(db_, "A", [](const std::string&) { return false; });
      if (!volser.ok()) return fail(volser.error());
      auto vol = txn_.writer->add_volume(*volser, "archive", o_.archive);
      if (!vol.ok()) return fail(vol.error());
      archive_vol_ = *vol;
      report_.volser = *volser;
    }
    if (cancel_) return fail(make_error(ErrorKind::Cancelled, "import cancelled"));
    report_.members++;
    const char* raw_name = archive_entry_pathname(e);
    if (!raw_name) return fail(bad("member " + std::to_string(report_.members) + " has no name"));
    const std::string member = raw_name;
    auto parts = place(member);
    if (!parts.ok()) return fail(parts.error());
    auto node = std::make_unique<ImageNode>();
    node->meta = meta_of(e);
    node->meta.ino = next_ino_++;

    if (const char* target = archive_entry_hardlink(e)) {
      auto tparts = place(target);
      if (!tparts.ok()) return fail(tparts.error());
      // The file the name holds at this point of the archive, as tar itself would link to.
      ImageNode* t = image_.find(*tparts);
      if (!t || t->meta.type != FileType::Regular) {
        report_.warnings.push_back("hard link '" + escape_for_display(member) + "' to '" +
                                   escape_for_display(target) +
                                   "', which is not a file earlier in the archive: skipped");
        continue;
      }
      // One inode, one set of metadata: tar writes xattrs and ACLs with the first name only.
      node->meta = t->meta;
      node->content_id = t->content_id;
      if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {  // pax: a hard link with data
        if (auto s = read_member(a.get(), e, member, *node); !s.ok()) return fail(s.error());
      }
    } else if (node->meta.type == FileType::Regular) {
      Status s = hasher_ && hashed_in_place(e) ? add_hashed(a.get(), e, *node)
                                               : read_member(a.get(), e, member, *node);
      if (!s.ok()) return fail(s.error());
    } else if (node->meta.type == FileType::Directory) {
      // A GNU incremental directory: its data is the dumpdir (GNU format), or its extended
      // header's GNU.dumpdir (pax format).
      std::optional<std::string> dumpdir;
      if (archive_entry_size(e) > 0) {
        dumpdir.emplace(static_cast<std::size_t>(std::min<la_int64_t>(archive_entry_size(e), 64 << 20)),
                        '\0');
        la_ssize_t n = archive_read_data(a.get(), dumpdir->data(), dumpdir->size());
        if (n < 0) return fail(archive_failure(a.get(), "member '" + escape_for_display(member) + "'"));
        dumpdir->resize(static_cast<std::size_t>(n));
      } else if (is_pax(a.get())) {
        const PaxDumpdirs& lists = pax_dumpdirs();
        auto it = lists.find(static_cast<std::uint64_t>(archive_read_header_position(a.get())));
        if (it != lists.end()) dumpdir = it->second;
      }
      if (dumpdir)
        if (auto s = apply_dumpdir(*parts, *dumpdir, member); !s.ok()) return fail(s.error());
      // A directory keeps what is below it; only its own metadata comes from this header.
      if (ImageNode* existing = image_.find(*parts); existing && is_dir(existing->meta)) {
        existing->meta = std::move(node->meta);
        continue;
      }
    }
    if (parts->empty() && !is_dir(node->meta))
      return fail(member_error(member, "names the root but is not a directory"));
    auto put = image_.put(*parts, std::move(node), implied_);
    if (!put.ok()) return fail(member_error(member, put.error().message));
  }
  if (first) return fail(bad("holds no members (an empty archive)"));
  if (src.decompressed) {
    // Past the end-of-archive blocks to the end of the stream: the checks that come last (the
    // gzip trailer, the xz index) must pass before anything read from the stream is kept.
    if (auto s = src.decompressed->drain(); !s.ok()) return fail(s.error());
    if (!src.decompressed->checked())
      report_.warnings.push_back("a " + src.decompressed->format() +
                                 " archive carries no checksum Recall can verify: damage inside it "
                                 "cannot be detected");
  }
  if (hasher_) {
    hasher_->finish(report_.archive_bytes);
    if (auto s = take_hashed(true); !s.ok()) return fail(s.error());
    resolve_hashed();
  }
  // An incremental archive of "dir" (not of ".") has no dumpdir for the prefix itself: what it
  // does not name at the top is not part of this point.
  if (incremental_ && !prefix_has_dumpdir_) {
    if (ImageNode* top = image_.find(prefix_)) {
      for (auto it = top->children.begin(); it != top->children.end();)
        it = top_seen_.count(it->first) ? std::next(it) : top->children.erase(it);
    }
  }
  if (times_clamped_)
    report_.warnings.push_back(
        std::to_string(times_clamped_) + " member(s) have times outside 1678-2262, e.g. '" +
        escape_for_display(first_clamped_) + "': recorded at the nearest end of that range");
  image_.count_links();
  report_.kind = incremental_ && !txn_.writer->first_point() ? "incremental" : "full";
  if (auto s = txn_.writer->set_kind(report_.kind); !s.ok()) return fail(s.error());
  auto written = write_image(*txn_.writer, image_, progress_);
  if (!written.ok()) return fail(written.error());
  const Digest archive_sha = hasher_ ? hasher_->identity() : src.sha->finish();
  if (auto known = store::find_archive(db_, archive_sha); !known.ok() || *known) {
    if (!known.ok()) return fail(known.error());
    txn_.abort();
    return already(**known);
  }
  if (auto s = txn_.writer->set_volume_sha(archive_vol_, archive_sha); !s.ok()) return fail(s.error());
  if (auto s = txn_.writer->set_volume_bytes(archive_vol_, report_.archive_bytes); !s.ok())
    return fail(s.error());

  report_.seq = txn_.writer->seq();
  report_.entries = written->entries;
  report_.changed = written->changed;
  report_.unchanged = written->unchanged;
  report_.deleted = written->deleted;
  report_.bytes_total = member_bytes_;
  report_.new_bytes = progress_.new_bytes + report_.referenced_bytes;
  report_.stored_bytes = progress_.stored_bytes;
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json stats = {{"archive", o_.archive},
                          {"volser", report_.volser},
                          {"compression", report_.compression},
                          {"in_place", report_.in_place},
                          {"members", report_.members},
                          {"entries", report_.entries},
                          {"changed", report_.changed},
                          {"deleted", report_.deleted},
                          {"bytes_total", report_.bytes_total},
                          {"referenced_bytes", report_.referenced_bytes},
                          {"stored_bytes", report_.stored_bytes},
                          {"seconds", report_.seconds}};
  if (auto s = txn_.commit(stats); !s.ok()) return fail(s.error());
  return report_;
}

}  // namespace

Result<TarImportReport> import_tar(store::Db& db, const TarImportOptions& options, ImportProgress& progress,
                                   const std::atomic<bool>& cancel) {
  TarImport imp(db, options, progress, cancel);
  return imp.run();
}

}  // namespace recall::import
