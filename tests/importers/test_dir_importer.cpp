// The directory importer against real trees in a temp dir: what it records, how it stores the
// bytes, forward merge on the next point, dedup across hosts, record_as, errors and cancel.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalogd/store/catalog_reader.h"
#include "catalogd/store/schema.h"
#include "catalogd/store/sqlite.h"
#include "common/paths.h"
#include "common/sha256.h"
#include "importers/dir_importer.h"
#include "tapebridge/volume_reader.h"

using namespace recall;
using namespace recall::store;
using recall::import::DirImportOptions;
using recall::import::DirImportReport;
using recall::import::ImportProgress;
namespace fs = std::filesystem;

namespace {

const std::string kBadName = "bad\xff\xfe-name.txt";  // not UTF-8
const std::string kXattrValue = std::string("\0\x01", 2) + "bin" + "\xff\xfe" + std::string("\0", 1);
constexpr std::size_t kBigSize = 3u << 20;

std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t v = rng();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
  }
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& data, mode_t mode = 0644) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(out) << path;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good()) << path;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

void set_mtime(const std::string& path, std::int64_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0)
      << path << ": " << std::strerror(errno);
}

std::int64_t ns(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

std::set<std::string> names_of(const std::vector<Entry>& es) {
  std::set<std::string> out;
  for (const auto& e : es) out.insert(e.name);
  return out;
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

class DirImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = "/tmp/recall-import-XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    tmp_ = templ;
    src_ = tmp_ + "/src";
    pool_ = tmp_ + "/pool";
    db_path_ = tmp_ + "/catalog.db";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(pool_.c_str(), 0700), 0);
    auto db = Db::open(db_path_, true, false);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    auto m = migrate(*db_);
    ASSERT_TRUE(m.ok()) << m.error().message;
  }
  void TearDown() override {
    db_.reset();
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }

  DirImportOptions options(const std::string& host, UnixTime at) {
    DirImportOptions o;
    o.host = host;
    o.at = at;
    o.source = src_;
    o.pool_dir = pool_;
    o.catalog_path = db_path_;
    o.threads = 2;
    return o;
  }

  Result<DirImportReport> run(const DirImportOptions& o) {
    ImportProgress progress;
    std::atomic<bool> cancel{false};
    return import::import_dir(*db_, o, progress, cancel);
  }

  // The test tree. Returns false (after a failure) if the filesystem lacks xattrs.
  void build_tree() {
    write_file(src_ + "/a.txt", "hello world\n", 0640);
    set_mtime(src_ + "/a.txt", 1600000000, 123456789);
    write_file(src_ + "/empty", "", 0600);
    big_ = random_bytes(kBigSize, 42);
    write_file(src_ + "/big.bin", big_, 0644);
    ASSERT_EQ(::symlink("a.txt", (src_ + "/link").c_str()), 0);
    write_file(src_ + "/hard1", "hard linked content\n", 0644);
    ASSERT_EQ(::link((src_ + "/hard1").c_str(), (src_ + "/hard2").c_str()), 0);
    ASSERT_EQ(::mkfifo((src_ + "/fifo").c_str(), 0620), 0);
    ASSERT_EQ(::chmod((src_ + "/fifo").c_str(), 0620), 0);
    ASSERT_EQ(::mkdir((src_ + "/nested").c_str(), 0750), 0);
    ASSERT_EQ(::mkdir((src_ + "/nested/deeper").c_str(), 0700), 0);
    ASSERT_EQ(::chmod((src_ + "/nested").c_str(), 0750), 0);
    ASSERT_EQ(::chmod((src_ + "/nested/deeper").c_str(), 0700), 0);
    write_file(src_ + "/nested/deeper/file.txt", "deep file\n", 0600);
    write_file(src_ + "/nested/other.txt", "other file\n", 0444);
    write_file(src_ + "/xattr.txt", "has an xattr\n", 0644);
    if (::setxattr((src_ + "/xattr.txt").c_str(), "user.test", kXattrValue.data(), kXattrValue.size(), 0) !=
        0) {
      if (errno == ENOTSUP || errno == EOPNOTSUPP)
        FAIL() << "/tmp lacks xattr support (setxattr user.test: ENOTSUP); the importer test needs it";
      FAIL() << "setxattr: " << std::strerror(errno);
    }
    write_file(src_ + "/" + kBadName, "not utf-8 name\n", 0644);
    write_file(src_ + "/todelete.txt", "to be deleted\n", 0644);
    write_file(src_ + "/toedit.txt", "original\n", 0644);
    ASSERT_EQ(::mkdir((src_ + "/olddir").c_str(), 0755), 0);
    write_file(src_ + "/olddir/inside.txt", "inside a dir to rename\n", 0644);
  }
  // Regular-file entries (hard links count twice) and distinct inodes among them.
  static constexpr std::uint64_t kTreeEntries = 17, kRegularEntries = 12, kRegularInodes = 11;

  std::uint64_t regular_bytes(bool once_per_inode) {
    std::uint64_t total = 0;
    std::set<ino_t> seen;
    for (const auto& e : fs::recursive_directory_iterator(src_)) {
      struct stat st {};
      EXPECT_EQ(::lstat(e.path().c_str(), &st), 0);
      if (!S_ISREG(st.st_mode)) continue;
      if (once_per_inode && !seen.insert(st.st_ino).second) continue;
      total += static_cast<std::uint64_t>(st.st_size);
    }
    return total;
  }

  std::int64_t count(const char* table) {
    auto st = db_->prepare(std::string("SELECT count(*) FROM ") + table);
    EXPECT_TRUE(st.ok());
    if (!st.ok()) return -1;
    auto r = st->step();
    EXPECT_TRUE(r.ok() && *r);
    return st->i64(0);
  }

  std::string real_src() {
    char buf[PATH_MAX];
    EXPECT_NE(::realpath(src_.c_str(), buf), nullptr);
    return buf;
  }

  // The node of `path` (as recorded) on `host`.
  std::int64_t node_of(CatalogReader& r, const std::string& host, const std::string& path) {
    auto h = r.host(host);
    EXPECT_TRUE(h.ok() && h->has_value()) << host;
    if (!h.ok() || !h->has_value()) return 0;
    std::int64_t node = (*h)->root_node;
    auto parts = split_point_path(path);
    EXPECT_TRUE(parts.ok()) << path;
    for (const auto& p : *parts) {
      auto c = r.child_node(node, p);
      EXPECT_TRUE(c.ok() && c->has_value()) << "no node for " << p << " in " << path;
      if (!c.ok() || !c->has_value()) return 0;
      node = **c;
    }
    return node;
  }

  // Every entry below `real` matches what the catalog has below `node` at `seq`, and nothing more.
  void check_tree(CatalogReader& r, std::int64_t node, const std::string& real, std::int64_t seq) {
    SCOPED_TRACE("dir " + real + " at seq " + std::to_string(seq));
    auto kids = r.children_at(node, seq);
    ASSERT_TRUE(kids.ok()) << kids.error().message;
    std::set<std::string> on_disk = files_in(real);
    EXPECT_EQ(names_of(*kids), on_disk);
    for (const auto& e : *kids) {
      std::string path = real + "/" + e.name;
      SCOPED_TRACE(path);
      struct stat st {};
      ASSERT_EQ(::lstat(path.c_str(), &st), 0);
      const FileMeta& m = e.version.meta;
      EXPECT_LE(e.version.from_seq, seq);
      EXPECT_GE(e.version.to_seq, seq);
      EXPECT_EQ(m.mode, st.st_mode & 07777);
      EXPECT_EQ(m.uid, st.st_uid);
      EXPECT_EQ(m.gid, st.st_gid);
      EXPECT_EQ(m.mtime_ns, ns(st.st_mtim));
      EXPECT_EQ(m.ino, st.st_ino);
      EXPECT_EQ(m.nlink, st.st_nlink);
      if (S_ISREG(st.st_mode)) {
        EXPECT_EQ(m.type, FileType::Regular);
        EXPECT_EQ(m.size, static_cast<std::uint64_t>(st.st_size));
        ASSERT_NE(e.version.content_id, 0);
        auto c = r.content(e.version.content_id);
        ASSERT_TRUE(c.ok());
        EXPECT_EQ(c->size, static_cast<std::uint64_t>(st.st_size));
        EXPECT_EQ(c->sha, sha256(read_all(path)));
      } else if (S_ISDIR(st.st_mode)) {
        EXPECT_EQ(m.type, FileType::Directory);
        EXPECT_EQ(e.version.content_id, 0);
        check_tree(r, e.version.node_id, path, seq);
      } else if (S_ISLNK(st.st_mode)) {
        EXPECT_EQ(m.type, FileType::Symlink);
        char target[PATH_MAX];
        ssize_t n = ::readlink(path.c_str(), target, sizeof target);
        ASSERT_GT(n, 0);
        EXPECT_EQ(m.link_target, std::string(target, static_cast<std::size_t>(n)));
        EXPECT_EQ(m.size, static_cast<std::uint64_t>(n));
      } else if (S_ISFIFO(st.st_mode)) {
        EXPECT_EQ(m.type, FileType::Fifo);
        EXPECT_EQ(m.size, 0u);
        EXPECT_EQ(e.version.content_id, 0);
      }
    }
  }

  std::string tmp_, src_, pool_, db_path_;
  std::string big_;
  std::unique_ptr<Db> db_;
};

// ---------------------------------------------------------------------------------------------

TEST_F(DirImportTest, FirstImportRecordsTheTree) {
  build_tree();
  if (HasFatalFailure()) return;
  auto rep = run(options("h1", 1000));
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  const std::string real = real_src();
  auto parts = split_point_path(real);
  ASSERT_TRUE(parts.ok());

  EXPECT_EQ(rep->host, "h1");
  EXPECT_EQ(rep->at, 1000);
  EXPECT_EQ(rep->kind, "full");
  EXPECT_EQ(rep->seq, 1);
  // Every path: the tree, its root and the directories above it (recorded for access checks).
  EXPECT_EQ(rep->entries, kTreeEntries + 1 + parts->size());
  EXPECT_EQ(rep->changed, kTreeEntries + 1 + parts->size());
  EXPECT_EQ(rep->files_read, kRegularInodes);  // hard-linked bytes are read once
  EXPECT_EQ(rep->files_unchanged, 0u);
  EXPECT_EQ(rep->deleted, 0u);
  EXPECT_EQ(rep->bytes_total, regular_bytes(false));
  EXPECT_EQ(rep->bytes_read, regular_bytes(true));
  EXPECT_EQ(rep->new_bytes, regular_bytes(true));  // every content is distinct
  EXPECT_GE(rep->new_chunks, kBigSize / (256u << 10) + 9);
  EXPECT_GT(rep->stored_bytes, 0u);
  EXPECT_TRUE(rep->skipped.empty()) << rep->skipped.front().path << ": " << rep->skipped.front().reason;
  EXPECT_TRUE(rep->warnings.empty());

  CatalogReader r(*db_);
  auto h = r.host("h1");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->points, 1);
  std::int64_t src_node = node_of(r, "h1", real);
  ASSERT_NE(src_node, 0);
  auto path = r.node_path(src_node);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, real);
  // The recorded root and each directory above it are directories in the point.
  auto ancestors = r.ancestors(src_node);
  ASSERT_TRUE(ancestors.ok());
  EXPECT_EQ(ancestors->size(), parts->size());
  for (auto anc : *ancestors) {
    auto v = r.version_at(anc, 1);
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ((*v)->meta.type, FileType::Directory);
  }
  check_tree(r, src_node, src_, 1);

  auto child = [&](const std::string& name) {
    auto c = r.child_at(src_node, name, 1);
    EXPECT_TRUE(c.ok() && c->has_value()) << name;
    return c.ok() && c->has_value() ? (*c)->version : VersionRow{};
  };
  // Specific entries.
  VersionRow a = child("a.txt");
  EXPECT_EQ(a.meta.mode, 0640u);
  EXPECT_EQ(a.meta.mtime_ns, 1600000000123456789);
  EXPECT_EQ(a.meta.size, 12u);
  VersionRow link = child("link");
  EXPECT_EQ(link.meta.type, FileType::Symlink);
  EXPECT_EQ(link.meta.link_target, "a.txt");
  VersionRow fifo = child("fifo");
  EXPECT_EQ(fifo.meta.type, FileType::Fifo);
  EXPECT_EQ(fifo.meta.mode, 0620u);
  VersionRow empty = child("empty");
  EXPECT_EQ(empty.meta.size, 0u);
  ASSERT_NE(empty.content_id, 0);
  auto ec = r.chunk_locations(empty.content_id);
  ASSERT_TRUE(ec.ok());
  EXPECT_TRUE(ec->empty());
  VersionRow bad = child(kBadName);
  EXPECT_EQ(bad.meta.type, FileType::Regular);
  auto bad_path = r.node_path(bad.node_id);
  ASSERT_TRUE(bad_path.ok());
  EXPECT_EQ(*bad_path, real + "/" + kBadName);

  VersionRow x = child("xattr.txt");
  auto it = std::find_if(x.meta.xattrs.begin(), x.meta.xattrs.end(),
                         [](const auto& kv) { return kv.first == "user.test"; });
  ASSERT_NE(it, x.meta.xattrs.end());
  EXPECT_EQ(it->second, kXattrValue);
  EXPECT_TRUE(std::none_of(a.meta.xattrs.begin(), a.meta.xattrs.end(),
                           [](const auto& kv) { return kv.first.rfind("user.", 0) == 0; }));

  VersionRow h1 = child("hard1"), h2 = child("hard2");
  EXPECT_NE(h1.content_id, 0);
  EXPECT_EQ(h1.content_id, h2.content_id);
  EXPECT_EQ(h1.meta.ino, h2.meta.ino);
  EXPECT_EQ(h1.meta.nlink, 2u);
  EXPECT_EQ(h2.meta.nlink, 2u);
  EXPECT_NE(h1.node_id, h2.node_id);

  // The big file: several chunks that cover it exactly and read back from the volume.
  VersionRow big = child("big.bin");
  ASSERT_NE(big.content_id, 0);
  auto content = r.content(big.content_id);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->size, kBigSize);
  EXPECT_EQ(content->sha, sha256(big_));
  auto locs = r.chunk_locations(big.content_id);
  ASSERT_TRUE(locs.ok()) << locs.error().message;
  ASSERT_GT(locs->size(), 1u);
  std::uint64_t sum = 0;
  for (const auto& l : *locs) {
    SCOPED_TRACE("chunk at content offset " + std::to_string(l.content_offset));
    EXPECT_EQ(l.content_offset, sum);
    sum += l.size;
    ASSERT_EQ(l.copies.size(), 1u);
    const auto& copy = l.copies[0];
    EXPECT_EQ(copy.volume_kind, "disk");
    EXPECT_EQ(copy.volume_state, "online");
    EXPECT_EQ(copy.copy, 0);
    EXPECT_EQ(fs::path(copy.volume_path).parent_path(), fs::path(pool_));
    auto vr = tape::VolumeReader::open(copy.volume_path, copy.volser);
    ASSERT_TRUE(vr.ok()) << vr.error().message;
    auto bytes = vr->read_chunk(copy.offset, copy.length, l.sha);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    ASSERT_EQ(bytes->size(), l.size);
    ASSERT_LE(l.content_offset + l.size, big_.size());
    EXPECT_TRUE(std::equal(bytes->begin(), bytes->end(),
                           reinterpret_cast<const std::uint8_t*>(big_.data()) + l.content_offset));
    EXPECT_EQ(l.sha, sha256(std::string_view(big_).substr(l.content_offset, l.size)));
  }
  EXPECT_EQ(sum, kBigSize);
  // Only the volume(s) this import wrote are in the pool.
  for (const auto& f : files_in(pool_)) EXPECT_EQ(fs::path(f).extension(), ".vol") << f;
  EXPECT_FALSE(files_in(pool_).empty());
}

TEST_F(DirImportTest, SecondImportForwardMerges) {
  build_tree();
  if (HasFatalFailure()) return;
  auto first = run(options("h1", 1000));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string real = real_src();
  std::int64_t todelete = 0, olddir = 0, inside_old = 0, a_version = 0, inside_content = 0;
  {
    CatalogReader r(*db_);
    std::int64_t src_node = node_of(r, "h1", real);
    todelete = node_of(r, "h1", real + "/todelete.txt");
    olddir = node_of(r, "h1", real + "/olddir");
    inside_old = node_of(r, "h1", real + "/olddir/inside.txt");
    auto a = r.child_at(src_node, "a.txt", 1);
    ASSERT_TRUE(a.ok() && a->has_value());
    a_version = (*a)->version.id;
    auto in = r.version_at(inside_old, 1);
    ASSERT_TRUE(in.ok() && in->has_value());
    inside_content = (*in)->content_id;
  }

  const std::string edited = "edited: a different and longer content\n";
  const std::string added = "a brand new file\n";
  write_file(src_ + "/toedit.txt", edited, 0644);
  set_mtime(src_ + "/toedit.txt", 1700000000, 5);
  ASSERT_EQ(::unlink((src_ + "/todelete.txt").c_str()), 0);
  write_file(src_ + "/added.txt", added, 0644);
  ASSERT_EQ(::rename((src_ + "/olddir").c_str(), (src_ + "/newdir").c_str()), 0);

  auto rep = run(options("h1", 2000));
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->kind, "incremental");
  EXPECT_EQ(rep->seq, 2);
  // a.txt, empty, big.bin, hard1, hard2, nested/deeper/file.txt, nested/other.txt, xattr.txt, bad,
  // and newdir/inside.txt: a new path, but the same inode, size and times as olddir/inside.txt.
  EXPECT_EQ(rep->files_unchanged, 10u);
  // toedit.txt and added.txt.
  EXPECT_EQ(rep->files_read, 2u);
  EXPECT_EQ(rep->new_bytes, edited.size() + added.size());
  EXPECT_GE(rep->deleted, 2u);  // todelete.txt, olddir (and what was below it)
  EXPECT_TRUE(rep->skipped.empty());

  CatalogReader r(*db_);
  std::int64_t src_node = node_of(r, "h1", real);
  auto c1 = r.children_at(src_node, 1);
  auto c2 = r.children_at(src_node, 2);
  ASSERT_TRUE(c1.ok() && c2.ok());
  auto n1 = names_of(*c1), n2 = names_of(*c2);
  EXPECT_TRUE(n1.count("todelete.txt"));
  EXPECT_TRUE(n1.count("olddir"));
  EXPECT_FALSE(n1.count("added.txt"));
  EXPECT_FALSE(n1.count("newdir"));
  EXPECT_FALSE(n2.count("todelete.txt"));
  EXPECT_FALSE(n2.count("olddir"));
  EXPECT_TRUE(n2.count("added.txt"));
  EXPECT_TRUE(n2.count("newdir"));
  // The deleted subtree is gone from point 2 but intact in point 1.
  auto od1 = r.children_at(olddir, 1);
  auto od2 = r.children_at(olddir, 2);
  ASSERT_TRUE(od1.ok() && od2.ok());
  EXPECT_EQ(names_of(*od1), (std::set<std::string>{"inside.txt"}));
  EXPECT_TRUE(od2->empty());
  for (auto n : {todelete, olddir, inside_old}) {
    auto v2 = r.version_at(n, 2);
    ASSERT_TRUE(v2.ok());
    EXPECT_FALSE(v2->has_value()) << "node " << n << " still valid at point 2";
    auto v1 = r.version_at(n, 1);
    ASSERT_TRUE(v1.ok());
    EXPECT_TRUE(v1->has_value());
  }
  // Point 2 is a complete image of the tree as it is now.
  check_tree(r, src_node, src_, 2);
  // The renamed file's bytes were deduplicated.
  auto inside_new = r.child_at(node_of(r, "h1", real + "/newdir"), "inside.txt", 2);
  ASSERT_TRUE(inside_new.ok() && inside_new->has_value());
  EXPECT_EQ((*inside_new)->version.content_id, inside_content);
  // An untouched file keeps its one open version.
  auto va = r.versions_of(node_of(r, "h1", real + "/a.txt"));
  ASSERT_TRUE(va.ok());
  ASSERT_EQ(va->size(), 1u);
  EXPECT_EQ((*va)[0].id, a_version);
  EXPECT_EQ((*va)[0].to_seq, kOpenSeq);
  // The edited file has two.
  auto ve = r.versions_of(node_of(r, "h1", real + "/toedit.txt"));
  ASSERT_TRUE(ve.ok());
  ASSERT_EQ(ve->size(), 2u);
  EXPECT_EQ((*ve)[0].to_seq, 1);
  EXPECT_EQ((*ve)[0].meta.size, std::string("original\n").size());
  EXPECT_EQ((*ve)[1].from_seq, 2);
  EXPECT_EQ((*ve)[1].meta.size, edited.size());
  EXPECT_EQ((*ve)[1].meta.mtime_ns, 1700000000000000005);
  EXPECT_NE((*ve)[0].content_id, (*ve)[1].content_id);
  auto c = r.content((*ve)[1].content_id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sha, sha256(edited));
}

TEST_F(DirImportTest, NonexistentSourceIsIo) {
  auto o = options("h1", 1000);
  o.source = tmp_ + "/does-not-exist";
  auto rep = run(o);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().kind, ErrorKind::Io) << rep.error().message;
  o.source = "relative/path";
  rep = run(o);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().kind, ErrorKind::Invalid) << rep.error().message;
  write_file(src_ + "/plain", "x");
  o.source = src_ + "/plain";
  rep = run(o);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().kind, ErrorKind::Invalid) << rep.error().message;
  CatalogReader r(*db_);
  auto t = r.totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->points, 0);
  EXPECT_EQ(count("hosts"), 0);
  EXPECT_TRUE(files_in(pool_).empty());
}

TEST_F(DirImportTest, CancelledBeforeStartLeavesNothing) {
  build_tree();
  if (HasFatalFailure()) return;
  ImportProgress progress;
  std::atomic<bool> cancel{true};
  auto o = options("h1", 1000);
  auto rep = import::import_dir(*db_, o, progress, cancel);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().kind, ErrorKind::Cancelled) << rep.error().message;
  CatalogReader r(*db_);
  auto h = r.host("h1");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->has_value());
  auto t = r.totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->points, 0);
  EXPECT_EQ(t->versions, 0);
  EXPECT_EQ(t->chunks, 0);
  EXPECT_EQ(t->volumes, 0);
  EXPECT_EQ(count("hosts"), 0);
  EXPECT_EQ(count("backup_sets"), 0);
  EXPECT_EQ(count("nodes"), 0);
  EXPECT_EQ(count("names"), 0);
  EXPECT_TRUE(files_in(pool_).empty()) << "volume files left in the pool";
  // The same point can be imported afterwards.
  auto again = run(o);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->seq, 1);
}

TEST_F(DirImportTest, CancelledMidwayLeavesNothing) {
  // Enough data that the import is still running when the first chunk is stored.
  // The watcher sets the flag microseconds after the first chunk; storing the other 60 MiB
  // takes far longer, so the import is always still running when it looks.
  for (int i = 0; i < 32; ++i) write_file(src_ + "/f" + std::to_string(i), random_bytes(2u << 20, 100 + i));
  ImportProgress progress;
  std::atomic<bool> cancel{false};
  std::thread watcher([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (progress.new_chunks.load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    cancel = true;
  });
  auto o = options("h1", 1000);
  auto rep = import::import_dir(*db_, o, progress, cancel);
  watcher.join();
  ASSERT_FALSE(rep.ok()) << "the import finished before the cancel flag was seen";
  EXPECT_EQ(rep.error().kind, ErrorKind::Cancelled) << rep.error().message;
  EXPECT_GT(progress.new_chunks.load(), 0u);
  CatalogReader r(*db_);
  auto t = r.totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->hosts, 0);
  EXPECT_EQ(t->points, 0);
  EXPECT_EQ(t->chunks, 0);
  EXPECT_EQ(t->volumes, 0);
  EXPECT_EQ(count("hosts"), 0);
  EXPECT_EQ(count("backup_sets"), 0);
  EXPECT_EQ(count("contents"), 0);
  EXPECT_TRUE(files_in(pool_).empty()) << "volume files left in the pool";
}

TEST_F(DirImportTest, SecondHostStoresNoNewChunks) {
  build_tree();
  if (HasFatalFailure()) return;
  auto first = run(options("h1", 1000));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto pool_before = files_in(pool_);
  CatalogReader r0(*db_);
  auto before = r0.totals();
  ASSERT_TRUE(before.ok());

  auto rep = run(options("h2", 500));  // another host: its own times
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->kind, "full");
  EXPECT_EQ(rep->seq, 1);
  EXPECT_EQ(rep->files_read, kRegularInodes);
  EXPECT_EQ(rep->new_bytes, 0u);
  EXPECT_EQ(rep->new_chunks, 0u);
  EXPECT_EQ(rep->stored_bytes, 0u);
  // No file data is stored again: the one new volume holds h2's point record only.
  EXPECT_EQ(files_in(pool_).size(), pool_before.size() + 1);

  CatalogReader r(*db_);
  auto after = r.totals();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(count("set_records"), 2);
  EXPECT_EQ(after->chunks, before->chunks + 1);
  EXPECT_EQ(after->contents, before->contents);
  EXPECT_EQ(after->volumes, before->volumes + 1);
  EXPECT_EQ(after->hosts, 2);
  const std::string real = real_src();
  auto b1 = r.version_at(node_of(r, "h1", real + "/big.bin"), 1);
  auto b2 = r.version_at(node_of(r, "h2", real + "/big.bin"), 1);
  ASSERT_TRUE(b1.ok() && b1->has_value() && b2.ok() && b2->has_value());
  EXPECT_EQ((*b1)->content_id, (*b2)->content_id);
  check_tree(r, node_of(r, "h2", real), src_, 1);
}

TEST_F(DirImportTest, RecordAsMapsTheTreeElsewhere) {
  build_tree();
  if (HasFatalFailure()) return;
  auto o = options("snap", 1000);
  o.record_as = "/";
  auto rep = run(o);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->entries, kTreeEntries + 1);
  CatalogReader r(*db_);
  auto h = r.host("snap");
  ASSERT_TRUE(h.ok() && h->has_value());
  auto root = (*h)->root_node;
  auto rv = r.version_at(root, 1);
  ASSERT_TRUE(rv.ok() && rv->has_value());
  struct stat st {};
  ASSERT_EQ(::lstat(src_.c_str(), &st), 0);
  EXPECT_EQ((*rv)->meta.type, FileType::Directory);
  EXPECT_EQ((*rv)->meta.mode, st.st_mode & 07777);
  EXPECT_EQ((*rv)->meta.ino, st.st_ino);
  auto kids = r.children_at(root, 1);
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(names_of(*kids), files_in(src_));
  check_tree(r, root, src_, 1);
  auto deep = node_of(r, "snap", "/nested/deeper/file.txt");
  ASSERT_NE(deep, 0);
  auto p = r.node_path(deep);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "/nested/deeper/file.txt");

  // Deeper: every directory above the recorded root exists in the point.
  auto o2 = options("moved", 1000);
  o2.record_as = "/srv/data";
  auto rep2 = run(o2);
  ASSERT_TRUE(rep2.ok()) << rep2.error().message;
  CatalogReader r2(*db_);
  auto f = node_of(r2, "moved", "/srv/data/nested/deeper/file.txt");
  ASSERT_NE(f, 0);
  auto p2 = r2.node_path(f);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, "/srv/data/nested/deeper/file.txt");
  for (const char* d : {"/", "/srv", "/srv/data"}) {
    auto v = r2.version_at(node_of(r2, "moved", d), 1);
    ASSERT_TRUE(v.ok() && v->has_value()) << d;
    EXPECT_EQ((*v)->meta.type, FileType::Directory) << d;
  }
  auto data_node = node_of(r2, "moved", "/srv/data");
  check_tree(r2, data_node, src_, 1);
  auto top = r2.children_at(node_of(r2, "moved", "/"), 1);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(names_of(*top), (std::set<std::string>{"srv"}));
}

TEST_F(DirImportTest, PointNotNewerIsRefused) {
  build_tree();
  if (HasFatalFailure()) return;
  auto first = run(options("h1", 1000));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto pool_before = files_in(pool_);
  write_file(src_ + "/new-file.txt", "something new so there would be chunks to store\n");
  for (UnixTime at : {UnixTime{1000}, UnixTime{999}}) {
    auto rep = run(options("h1", at));
    ASSERT_FALSE(rep.ok()) << "at " << at;
    EXPECT_EQ(rep.error().kind, ErrorKind::Conflict) << rep.error().message;
  }
  EXPECT_EQ(files_in(pool_), pool_before);
  CatalogReader r(*db_);
  auto h = r.host("h1");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->points, 1);
  EXPECT_EQ(count("backup_sets"), 1);
  auto later = run(options("h1", 1001));
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->seq, 2);
}

}  // namespace
