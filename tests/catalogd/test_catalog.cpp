// The catalog store: schema migration, PointWriter's transaction and validation, the forward
// merge model (versions valid from_seq..to_seq), CatalogReader queries and the meta codec.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "catalog_test_util.h"
#include "catalogd/store/meta_codec.h"
#include "common/time.h"

using namespace recall;
using namespace recall::store;
using recall::testing::CatalogFixture;
using recall::testing::CatalogTempDir;
using recall::testing::dir_meta;
using recall::testing::file_meta;

namespace {

std::int64_t user_version(Db& db) {
  auto st = db.prepare("PRAGMA user_version");
  EXPECT_TRUE(st.ok());
  auto r = st->step();
  EXPECT_TRUE(r.ok() && *r);
  return st->i64(0);
}

std::vector<std::string> names_of(const std::vector<Entry>& es) {
  std::vector<std::string> out;
  for (const auto& e : es) out.push_back(e.name);
  return out;
}

PointSpec spec(const std::string& host, UnixTime at) { return PointSpec{host, at, "test", "/src"}; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Migration

TEST(Migrate, FreshDbGetsCurrentSchemaVersion) {
  CatalogTempDir tmp;
  auto db = Db::open(tmp.path() + "/c.db", true, false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(user_version(**db), 0);
  auto m = migrate(**db);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(user_version(**db), kSchemaVersion);
  // The tables exist and are usable.
  EXPECT_TRUE((*db)
                  ->exec("SELECT count(*) FROM hosts; SELECT count(*) FROM versions; "
                         "SELECT count(*) FROM names_fts")
                  .ok());
}

TEST(Migrate, TwiceIsANoOp) {
  CatalogTempDir tmp;
  const std::string path = tmp.path() + "/c.db";
  {
    auto db = Db::open(path, true, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(migrate(**db).ok());
    // Some data, to see that a second migrate keeps it.
    auto w = PointWriter::begin(**db, spec("h", 100));
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE(w->commit("{}").ok());
  }
  auto db = Db::open(path, false, false);
  ASSERT_TRUE(db.ok());
  auto count_objects = [&] {
    auto st = (*db)->prepare("SELECT count(*) FROM sqlite_master");
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(st->step().ok());
    return st->i64(0);
  };
  const auto objects = count_objects();
  auto m = migrate(**db);
  ASSERT_TRUE(m.ok()) << m.error().message;
  m = migrate(**db);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(user_version(**db), kSchemaVersion);
  EXPECT_EQ(count_objects(), objects);
  CatalogReader r(**db);
  auto h = r.host("h");
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->has_value());
  EXPECT_EQ((*h)->points, 1);
}

TEST(Migrate, NewerSchemaIsRefusedWithConflict) {
  CatalogTempDir tmp;
  auto db = Db::open(tmp.path() + "/c.db", true, false);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->exec("PRAGMA user_version=" + std::to_string(kSchemaVersion + 1)).ok());
  auto m = migrate(**db);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind, ErrorKind::Conflict) << m.error().message;
  EXPECT_NE(m.error().message.find(std::to_string(kSchemaVersion + 1)), std::string::npos)
      << m.error().message;
  // Nothing was touched: still the newer version, no tables created.
  EXPECT_EQ(user_version(**db), kSchemaVersion + 1);
  auto st = (*db)->prepare("SELECT count(*) FROM sqlite_master WHERE name = 'hosts'");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->step().ok());
  EXPECT_EQ(st->i64(0), 0);
}

// ---------------------------------------------------------------------------------------------
// PointWriter

using PointWriterTest = CatalogFixture;

TEST_F(PointWriterTest, FirstPointIsFullThenIncremental) {
  {
    auto w = PointWriter::begin(*db_, spec("alpha", 1000));
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_EQ(w->seq(), 1);
    EXPECT_TRUE(w->first_point());
    EXPECT_EQ(w->kind(), "full");
    EXPECT_NE(w->root_node(), 0);
    ASSERT_TRUE(w->add_version(w->root_node(), dir_meta(), 0).ok());
    ASSERT_TRUE(w->commit("{\"n\":1}").ok());
  }
  std::int64_t root = 0;
  {
    auto w = PointWriter::begin(*db_, spec("alpha", 2000));
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_EQ(w->seq(), 2);
    EXPECT_FALSE(w->first_point());
    EXPECT_EQ(w->kind(), "incremental");
    root = w->root_node();
    ASSERT_TRUE(w->commit("{}").ok());
  }
  CatalogReader r(*db_);
  auto h = r.host("alpha");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->root_node, root);
  EXPECT_EQ((*h)->points, 2);
  EXPECT_EQ((*h)->first_at, 1000);
  EXPECT_EQ((*h)->last_at, 2000);
  auto pts = r.points((*h)->id);
  ASSERT_TRUE(pts.ok());
  ASSERT_EQ(pts->size(), 2u);
  EXPECT_EQ((*pts)[0].seq, 1);
  EXPECT_EQ((*pts)[0].kind, "full");
  EXPECT_EQ((*pts)[0].importer, "test");
  EXPECT_EQ((*pts)[1].seq, 2);
  EXPECT_EQ((*pts)[1].kind, "incremental");
  auto sets = r.backup_sets(10);
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->size(), 2u);
  for (const auto& s : *sets) EXPECT_EQ(s.status, "complete");

  // Sequence numbers are per host: another host starts at 1 again.
  auto w = PointWriter::begin(*db_, spec("beta", 500));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->seq(), 1);
  EXPECT_EQ(w->kind(), "full");
  EXPECT_NE(w->root_node(), root);
}

TEST_F(PointWriterTest, PointNotNewerThanNewestIsRefused) {
  {
    auto w = PointWriter::begin(*db_, spec("alpha", 2000));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->commit("{}").ok());
  }
  const auto sets_before = scalar("SELECT count(*) FROM backup_sets");
  for (UnixTime at : {UnixTime{2000}, UnixTime{1999}, UnixTime{10}}) {
    auto w = PointWriter::begin(*db_, spec("alpha", at));
    ASSERT_FALSE(w.ok()) << "at " << at;
    EXPECT_EQ(w.error().kind, ErrorKind::Conflict);
    // The message names the newest point and the one asked for.
    EXPECT_NE(w.error().message.find(format_utc(2000)), std::string::npos) << w.error().message;
    EXPECT_NE(w.error().message.find(format_utc(at)), std::string::npos) << w.error().message;
  }
  // Refused begins leave nothing behind, and the write lock is released.
  EXPECT_EQ(scalar("SELECT count(*) FROM points"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM backup_sets"), sets_before);
  auto w = PointWriter::begin(*db_, spec("alpha", 2001));
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->seq(), 2);
}

TEST_F(PointWriterTest, BadHostNamesAreInvalid) {
  const std::vector<std::string> bad = {
      "", "a/b", "/abs", ".hidden", "..", "@at", "x/", std::string(256, 'h'), std::string("nul\0byte", 8)};
  for (const auto& host : bad) {
    auto w = PointWriter::begin(*db_, spec(host, 100));
    ASSERT_FALSE(w.ok()) << "host '" << host << "' was accepted";
    EXPECT_EQ(w.error().kind, ErrorKind::Invalid) << host;
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM hosts"), 0);
  // The limits themselves are fine.
  for (const std::string& host : {std::string(255, 'h'), std::string("a.b@c-d_e"), std::string("h")}) {
    auto w = PointWriter::begin(*db_, spec(host, 100));
    ASSERT_TRUE(w.ok()) << "host '" << host << "': " << w.error().message;
    ASSERT_TRUE(w->commit("{}").ok());
  }
}

TEST_F(PointWriterTest, DestroyedWithoutCommitLeavesFreshCatalogEmpty) {
  {
    auto w = PointWriter::begin(*db_, spec("ghost", 1000));
    ASSERT_TRUE(w.ok()) << w.error().message;
    auto root = w->root_node();
    ASSERT_TRUE(w->add_version(root, dir_meta(), 0).ok());
    auto n = w->child_node(root, "some-unique-name.txt");
    ASSERT_TRUE(n.ok());
    auto vol = w->add_volume("D000001", "disk", tmp_.path() + "/D000001.vol");
    ASSERT_TRUE(vol.ok());
    auto chunk = w->add_chunk(sha256("chunk"), 5, *vol, 100, 50, 1);
    ASSERT_TRUE(chunk.ok());
    auto content = w->add_content(sha256("chunk"), 5, {*chunk});
    ASSERT_TRUE(content.ok());
    ASSERT_TRUE(w->add_version(*n, file_meta(), *content).ok());
    // Destroyed here without commit.
  }
  CatalogReader r(*db_);
  auto t = r.totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->hosts, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM hosts"), 0);
  EXPECT_EQ(t->points, 0);
  EXPECT_EQ(t->versions, 0);
  EXPECT_EQ(t->nodes, 0);
  EXPECT_EQ(t->names, 0);
  EXPECT_EQ(t->contents, 0);
  EXPECT_EQ(t->chunks, 0);
  EXPECT_EQ(t->volumes, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM backup_sets"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM names_fts WHERE names_fts MATCH '\"unique\"'"), 0);
  auto h = r.host("ghost");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->has_value());
  // And the catalog is writable again afterwards.
  auto w = PointWriter::begin(*db_, spec("ghost", 1000));
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->seq(), 1);
}

TEST_F(PointWriterTest, DestroyedWithoutCommitLeavesExistingCatalogExactlyAsBefore) {
  std::int64_t root = 0, a = 0, va = 0;
  {
    auto w = PointWriter::begin(*db_, spec("alpha", 1000));
    ASSERT_TRUE(w.ok());
    root = w->root_node();
    ASSERT_TRUE(w->add_version(root, dir_meta(), 0).ok());
    auto n = w->child_node(root, "a.txt");
    ASSERT_TRUE(n.ok());
    a = *n;
    auto v = w->add_version(a, file_meta(), 0);
    ASSERT_TRUE(v.ok());
    va = *v;
    ASSERT_TRUE(w->commit("{}").ok());
  }
  CatalogReader r(*db_);
  auto before = r.totals();
  ASSERT_TRUE(before.ok());
  const auto sets_before = scalar("SELECT count(*) FROM backup_sets");
  {
    auto w = PointWriter::begin(*db_, spec("alpha", 2000));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->close_version(va).ok());
    ASSERT_TRUE(w->close_subtree(root).ok());
    auto n = w->child_node(root, "new.txt");
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(w->add_version(*n, file_meta(), 0).ok());
    // Same connection: a nested writer is a savepoint; committed, it still goes with the outer one.
    auto other = PointWriter::begin(*db_, spec("beta", 5));
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(other->commit("{}").ok());
  }
  auto after = r.totals();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->hosts, before->hosts);
  EXPECT_EQ(scalar("SELECT count(*) FROM hosts"), 1);
  EXPECT_EQ(after->points, before->points);
  EXPECT_EQ(after->versions, before->versions);
  EXPECT_EQ(after->nodes, before->nodes);
  EXPECT_EQ(after->names, before->names);
  EXPECT_EQ(scalar("SELECT count(*) FROM backup_sets"), sets_before);
  // The closed version is open again (the UPDATE was rolled back).
  auto vs = r.versions_of(a);
  ASSERT_TRUE(vs.ok());
  ASSERT_EQ(vs->size(), 1u);
  EXPECT_EQ((*vs)[0].to_seq, kOpenSeq);
  auto h = r.host("alpha");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->points, 1);
  auto child = r.child_node(root, "new.txt");
  ASSERT_TRUE(child.ok());
  EXPECT_FALSE(child->has_value());
}

// ---------------------------------------------------------------------------------------------
// Forward merge: versions stay open until a later point closes them.

// Nodes, chunks and contents are found again however they are looked up: a child of a node
// this import made (asked for from memory, not the catalog), of an older node (asked for from the
// catalog), and chunks and contents once the writer has switched to inserting first (after a run
// of new ones) as well as before.
TEST_F(PointWriterTest, InternedRowsAreFoundAgainWhicheverWayTheyWereLookedUp) {
  std::int64_t old_dir = 0, old_child = 0;
  {
    auto w = PointWriter::begin(*db_, spec("h", 1000));
    ASSERT_TRUE(w.ok());
    old_dir = *w->child_node(w->root_node(), "old");
    old_child = *w->child_node(old_dir, "kid");
    ASSERT_TRUE(w->commit("{}").ok());
  }
  auto w = PointWriter::begin(*db_, spec("h", 2000));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w->child_node(old_dir, "kid"), old_child);
  const std::int64_t made = *w->child_node(old_dir, "new");
  const std::int64_t made_child = *w->child_node(made, "x");
  EXPECT_NE(made_child, old_child);
  EXPECT_EQ(*w->child_node(made, "x"), made_child);
  EXPECT_EQ(*w->child_node(old_dir, "new"), made);
  EXPECT_NE(*w->child_node(made, "y"), made_child);

  std::vector<std::int64_t> chunks, contents;
  for (int i = 0; i < 40; ++i) {  // all new: the writer turns to inserting first
    bool fresh = false;
    auto c = w->intern_chunk(sha256("chunk " + std::to_string(i)), 10, &fresh);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(fresh);
    chunks.push_back(*c);
    auto t = w->intern_content(sha256("content " + std::to_string(i)), 10, {*c}, true, &fresh);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_TRUE(fresh);
    contents.push_back(*t);
  }
  for (int i = 0; i < 40; ++i) {  // all known: found, whichever order the writer tries
    bool fresh = true;
    EXPECT_EQ(*w->intern_chunk(sha256("chunk " + std::to_string(i)), 10, &fresh), chunks[i]);
    EXPECT_FALSE(fresh);
    fresh = true;
    EXPECT_EQ(*w->intern_content(sha256("content " + std::to_string(i)), 10, {chunks[i]}, true, &fresh),
              contents[i]);
    EXPECT_FALSE(fresh);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM chunks"), 40);
  EXPECT_EQ(scalar("SELECT count(*) FROM content_chunks"), 40);
}

TEST_F(PointWriterTest, ForwardMergeModel) {
  std::int64_t root = 0, keep = 0, change = 0, gone = 0, dir = 0, dx = 0, dy = 0, added = 0;
  std::int64_t v_keep = 0, v_change1 = 0, v_gone = 0, v_dir = 0;
  FileMeta old_meta = file_meta(0644, 10), new_meta = file_meta(0600, 20);
  new_meta.mtime_ns = 2'000'000'000;
  {
    auto w = PointWriter::begin(*db_, spec("h", 1000));
    ASSERT_TRUE(w.ok());
    root = w->root_node();
    ASSERT_TRUE(w->add_version(root, dir_meta(), 0).ok());
    auto node = [&](std::int64_t parent, const char* name) {
      auto n = w->child_node(parent, name);
      EXPECT_TRUE(n.ok());
      return *n;
    };
    keep = node(root, "keep");
    change = node(root, "change");
    gone = node(root, "gone");
    dir = node(root, "dir");
    dx = node(dir, "x");
    dy = node(dir, "y");
    EXPECT_EQ(node(root, "keep"), keep);  // child_node finds an existing node
    v_keep = *w->add_version(keep, file_meta(), 0);
    v_change1 = *w->add_version(change, old_meta, 0);
    v_gone = *w->add_version(gone, file_meta(), 0);
    v_dir = *w->add_version(dir, dir_meta(), 0);
    ASSERT_TRUE(w->add_version(dx, file_meta(), 0).ok());
    ASSERT_TRUE(w->add_version(dy, file_meta(), 0).ok());
    ASSERT_TRUE(w->commit("{}").ok());
  }
  {
    auto w = PointWriter::begin(*db_, spec("h", 2000));
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->seq(), 2);
    auto open = w->open_children(root);
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(open->size(), 4u);
    ASSERT_TRUE(open->count("change"));
    EXPECT_EQ(open->at("change").id, v_change1);
    auto ov = w->open_version(keep);
    ASSERT_TRUE(ov.ok() && ov->has_value());
    EXPECT_EQ((*ov)->id, v_keep);

    ASSERT_TRUE(w->close_version(v_change1).ok());
    ASSERT_TRUE(w->add_version(change, new_meta, 0).ok());
    ASSERT_TRUE(w->close_version(v_gone).ok());
    ASSERT_TRUE(w->close_version(v_dir).ok());
    ASSERT_TRUE(w->close_subtree(dir).ok());
    added = *w->child_node(root, "added");
    ASSERT_TRUE(w->add_version(added, file_meta(), 0).ok());
    ASSERT_TRUE(w->commit("{}").ok());
  }
  CatalogReader r(*db_);
  auto c1 = r.children_at(root, 1);
  auto c2 = r.children_at(root, 2);
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_EQ(names_of(*c1), (std::vector<std::string>{"change", "dir", "gone", "keep"}));
  EXPECT_EQ(names_of(*c2), (std::vector<std::string>{"added", "change", "keep"}));
  auto d1 = r.children_at(dir, 1);
  auto d2 = r.children_at(dir, 2);
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(names_of(*d1), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(d2->empty());
  for (auto n : {dx, dy}) {
    auto vs = r.versions_of(n);
    ASSERT_TRUE(vs.ok());
    ASSERT_EQ(vs->size(), 1u);
    EXPECT_EQ((*vs)[0].to_seq, 1);
  }

  // The unchanged file has one row, still open: nothing was written for it in point 2.
  auto vk = r.versions_of(keep);
  ASSERT_TRUE(vk.ok());
  ASSERT_EQ(vk->size(), 1u);
  EXPECT_EQ((*vk)[0].id, v_keep);
  EXPECT_EQ((*vk)[0].from_seq, 1);
  EXPECT_EQ((*vk)[0].to_seq, kOpenSeq);

  auto vc = r.versions_of(change);
  ASSERT_TRUE(vc.ok());
  ASSERT_EQ(vc->size(), 2u);
  EXPECT_EQ((*vc)[0].from_seq, 1);
  EXPECT_EQ((*vc)[0].to_seq, 1);
  EXPECT_EQ((*vc)[0].meta, old_meta);
  EXPECT_EQ((*vc)[1].from_seq, 2);
  EXPECT_EQ((*vc)[1].to_seq, kOpenSeq);
  EXPECT_EQ((*vc)[1].meta, new_meta);

  auto at1 = r.version_at(change, 1);
  auto at2 = r.version_at(change, 2);
  auto at9 = r.version_at(change, 9);  // open: valid in every later point too
  auto at0 = r.version_at(change, 0);
  ASSERT_TRUE(at1.ok() && at2.ok() && at9.ok() && at0.ok());
  ASSERT_TRUE(at1->has_value() && at2->has_value() && at9->has_value());
  EXPECT_EQ((*at1)->id, v_change1);
  EXPECT_EQ((*at1)->meta.size, 10u);
  EXPECT_EQ((*at2)->meta.size, 20u);
  EXPECT_EQ((*at9)->id, (*at2)->id);
  EXPECT_FALSE(at0->has_value());

  auto g1 = r.version_at(gone, 1);
  auto g2 = r.version_at(gone, 2);
  ASSERT_TRUE(g1.ok() && g2.ok());
  EXPECT_TRUE(g1->has_value());
  EXPECT_FALSE(g2->has_value());
  auto a1 = r.version_at(added, 1);
  ASSERT_TRUE(a1.ok());
  EXPECT_FALSE(a1->has_value());

  auto ch = r.child_at(root, "gone", 2);
  ASSERT_TRUE(ch.ok());
  EXPECT_FALSE(ch->has_value());
  ch = r.child_at(root, "gone", 1);
  ASSERT_TRUE(ch.ok() && ch->has_value());
  EXPECT_EQ((*ch)->version.id, v_gone);

  // A path that comes back reuses its node; the gap stays a gap.
  {
    auto w = PointWriter::begin(*db_, spec("h", 3000));
    ASSERT_TRUE(w.ok());
    auto n = w->child_node(root, "gone");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, gone);
    ASSERT_TRUE(w->add_version(gone, file_meta(0644, 33), 0).ok());
    ASSERT_TRUE(w->commit("{}").ok());
  }
  CatalogReader r2(*db_);
  auto vg = r2.versions_of(gone);
  ASSERT_TRUE(vg.ok());
  ASSERT_EQ(vg->size(), 2u);
  EXPECT_EQ((*vg)[1].from_seq, 3);
  auto g = r2.version_at(gone, 2);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());
  g = r2.version_at(gone, 3);
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->meta.size, 33u);
}

// ---------------------------------------------------------------------------------------------
// CatalogReader

using ReaderTest = CatalogFixture;

TEST_F(ReaderTest, PointAt) {
  for (UnixTime at : {1000, 2000, 3000}) {
    auto w = PointWriter::begin(*db_, spec("h", at));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->commit("{}").ok());
  }
  CatalogReader r(*db_);
  auto h = r.host("h");
  ASSERT_TRUE(h.ok() && h->has_value());
  const auto id = (*h)->id;
  auto seq_at = [&](UnixTime at) -> std::int64_t {
    auto p = r.point_at(id, at);
    EXPECT_TRUE(p.ok());
    if (!p.ok() || !p->has_value()) return 0;
    return (*p)->seq;
  };
  EXPECT_EQ(seq_at(1000), 1);
  EXPECT_EQ(seq_at(2000), 2);  // exact
  EXPECT_EQ(seq_at(3000), 3);
  EXPECT_EQ(seq_at(2500), 2);  // between: the older one
  EXPECT_EQ(seq_at(1999), 1);
  EXPECT_EQ(seq_at(999), 0);  // before the first: none
  EXPECT_EQ(seq_at(kLatest), 3);
  auto p = r.point_at(id, kLatest);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->at, 3000);
  EXPECT_EQ((*p)->kind, "incremental");
  auto none = r.point_at(id, 999);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto unknown_host = r.point_at(id + 100, kLatest);
  ASSERT_TRUE(unknown_host.ok());
  EXPECT_FALSE(unknown_host->has_value());
  auto bs = r.point_by_seq(id, 2);
  ASSERT_TRUE(bs.ok() && bs->has_value());
  EXPECT_EQ((*bs)->at, 2000);
  bs = r.point_by_seq(id, 4);
  ASSERT_TRUE(bs.ok());
  EXPECT_FALSE(bs->has_value());
}

TEST_F(ReaderTest, NodePathAndAncestorsWithRepeatedNames) {
  std::int64_t root = 0, a = 0, b1 = 0, b2 = 0, c = 0, ab = 0;
  {
    auto w = PointWriter::begin(*db_, spec("h", 1000));
    ASSERT_TRUE(w.ok());
    root = w->root_node();
    a = *w->child_node(root, "a");
    b1 = *w->child_node(a, "b");
    b2 = *w->child_node(b1, "b");
    c = *w->child_node(b2, "c");
    ab = *w->child_node(root, "b");  // "b" directly under the root is yet another node
    ASSERT_TRUE(w->commit("{}").ok());
  }
  EXPECT_NE(b1, b2);
  EXPECT_NE(ab, b1);
  CatalogReader r(*db_);
  auto path = [&](std::int64_t n) {
    auto p = r.node_path(n);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? *p : std::string("<error>");
  };
  EXPECT_EQ(path(root), "/");
  EXPECT_EQ(path(a), "/a");
  EXPECT_EQ(path(b1), "/a/b");
  EXPECT_EQ(path(b2), "/a/b/b");
  EXPECT_EQ(path(c), "/a/b/b/c");
  EXPECT_EQ(path(ab), "/b");
  auto anc = r.ancestors(c);
  ASSERT_TRUE(anc.ok());
  EXPECT_EQ(*anc, (std::vector<std::int64_t>{root, a, b1, b2}));
  anc = r.ancestors(b2);
  ASSERT_TRUE(anc.ok());
  EXPECT_EQ(*anc, (std::vector<std::int64_t>{root, a, b1}));
  anc = r.ancestors(root);
  ASSERT_TRUE(anc.ok());
  EXPECT_TRUE(anc->empty());
  auto nm = r.node_name(b2);
  ASSERT_TRUE(nm.ok());
  EXPECT_EQ(*nm, "b");
  auto cn = r.child_node(b1, "b");
  ASSERT_TRUE(cn.ok() && cn->has_value());
  EXPECT_EQ(**cn, b2);
  // Names are stored once.
  EXPECT_EQ(scalar("SELECT count(*) FROM names WHERE name = 'b'"), 1);
  auto missing = r.node_path(c + 1000);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Meta codec: xattrs (arbitrary bytes) and ACLs go through versions.extra and come back equal.

TEST_F(ReaderTest, MetaCodecRoundTripThroughVersions) {
  FileMeta m = file_meta(0640, 1234, 1000, "alice");
  m.group = "staff";
  m.gid = 50;
  m.mtime_ns = -1'234'567'891;  // before 1970
  m.ctime_ns = 1'700'000'000'123'456'789;
  m.ino = 0xFFFF'FFFF'FFFF'FFF0ull;
  m.nlink = 3;
  m.xattrs = {
      {"security.selinux", std::string("system_u:object_r:user_home_t:s0\0", 34)},
      {"trusted.x", ""},
      {"user.bin", std::string("\x00\x01\x02\xff\xfe\x80\"\\\n{}", 12)},
      {"user.test", "plain text"},
      {"user.utf8", "caf\xc3\xa9"},
  };
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  m.xattrs.emplace_back("user.zall", all_bytes);
  m.acl = {
      {AclEntry::Tag::UserObj, 0, "", 7},        {AclEntry::Tag::User, 1001, "bob", 6},
      {AclEntry::Tag::User, 4294967294u, "", 4}, {AclEntry::Tag::GroupObj, 0, "", 5},
      {AclEntry::Tag::Group, 2000, "devs", 7},   {AclEntry::Tag::Mask, 0, "", 7},
      {AclEntry::Tag::Other, 0, "", 0},
  };
  FileMeta d = dir_meta(02775, 1000, "alice");
  d.acl = m.acl;
  d.default_acl = {
      {AclEntry::Tag::UserObj, 0, "", 7},  {AclEntry::Tag::Group, 2000, "devs", 5},
      {AclEntry::Tag::GroupObj, 0, "", 5}, {AclEntry::Tag::Mask, 0, "", 5},
      {AclEntry::Tag::Other, 0, "", 5},
  };
  FileMeta plain = file_meta();
  FileMeta link;
  link.type = FileType::Symlink;
  link.mode = 0777;
  link.link_target = "../some where/\xff target";
  link.size = link.link_target.size();
  link.xattrs = {{"user.on-link", std::string("\0", 1)}};
  FileMeta dev;
  dev.type = FileType::CharDevice;
  dev.mode = 0620;
  dev.rdev = (136ull << 8) | 3;

  std::int64_t nm = 0, nd = 0, np = 0, nl = 0, nv = 0;
  {
    auto w = PointWriter::begin(*db_, spec("h", 1000));
    ASSERT_TRUE(w.ok());
    auto root = w->root_node();
    nm = *w->child_node(root, "file");
    nd = *w->child_node(root, "dir");
    np = *w->child_node(root, "plain");
    nl = *w->child_node(root, "link");
    nv = *w->child_node(root, "dev");
    ASSERT_TRUE(w->add_version(nm, m, 0).ok());
    ASSERT_TRUE(w->add_version(nd, d, 0).ok());
    ASSERT_TRUE(w->add_version(np, plain, 0).ok());
    ASSERT_TRUE(w->add_version(nl, link, 0).ok());
    ASSERT_TRUE(w->add_version(nv, dev, 0).ok());
    ASSERT_TRUE(w->commit("{}").ok());
  }
  CatalogReader r(*db_);
  auto check = [&](std::int64_t node, const FileMeta& want) {
    auto v = r.version_at(node, 1);
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ((*v)->meta, want);
    EXPECT_EQ((*v)->meta.xattrs, want.xattrs);
    EXPECT_EQ((*v)->meta.acl, want.acl);
    EXPECT_EQ((*v)->meta.default_acl, want.default_acl);
  };
  check(nm, m);
  check(nd, d);
  check(np, plain);
  check(nl, link);
  check(nv, dev);
  // Without xattrs and ACLs nothing extra is stored.
  EXPECT_EQ(scalar("SELECT count(*) FROM versions WHERE extra IS NULL"), 2);

  // The codec on its own as well.
  FileMeta back;
  decode_extra(encode_extra(m), back);
  EXPECT_EQ(back.xattrs, m.xattrs);
  EXPECT_EQ(back.acl, m.acl);
  EXPECT_TRUE(encode_extra(plain).empty());
  for (auto t : {FileType::Regular, FileType::Directory, FileType::Symlink, FileType::CharDevice,
                 FileType::BlockDevice, FileType::Fifo, FileType::Socket})
    EXPECT_EQ(type_from_code(type_code(t)), t);
}
