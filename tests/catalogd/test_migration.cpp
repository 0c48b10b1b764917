// Migration and reads from tape inside one daemon home: a tree imported for real, its disk volume
// migrated to the simulated library (copies, commit points, eviction), read back through
// ContentSource (disk, tape, fallback between copies, relocation after an eviction), and the
// catalog side of it (chunks without a copy, eviction refused, torn tails, the policy's choice).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "catalog_test_util.h"
#include "catalogd/daemon/api.h"
#include "catalogd/daemon/migration.h"
#include "catalogd/daemon/startup.h"
#include "catalogd/daemon/tape_service.h"
#include "catalogd/store/volume_catalog.h"
#include "home_test_util.h"
#include "importers/dir_importer.h"
#include "tapebridge/tape_format.h"
#include "volume_test_util.h"

namespace recall::daemon {
namespace {

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = tmp_.path() + "/home";
    src_ = tmp_.path() + "/src";
    paths_ = paths_for(home_);
    ASSERT_TRUE(ensure_home_dir(paths_).ok());
    ASSERT_TRUE(prepare_home(paths_).ok());
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    for (int i = 0; i < 12; ++i) {
      files_["f" + std::to_string(i)] = testing::random_bytes(40'000 + 70'000 * i, 100 + i);
      write("f" + std::to_string(i));
    }
    files_["same-as-f3"] = files_["f3"];
    write("same-as-f3");
    import(1000);
    TapeConfig cfg;
    cfg.library.drives = 2;
    cfg.library.cartridges = 8;
    cfg.library.slots = 10;
    cfg.library.timing.capacity_bytes = 3u << 20;  // about 2.5 MiB of data on each
    cfg.time_scale = 0;
    auto tape = TapeService::open(home_, cfg);
    ASSERT_TRUE(tape.ok()) << tape.error().message;
    tape_ = std::move(*tape);
    source_ = std::make_unique<ContentSource>(disks_, counters_, tape_.get());
  }

  void write(const std::string& name) {
    const auto& b = files_[name];
    std::ofstream(src_ + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), b.size());
  }

  void import(UnixTime at) { testing::import_tree(paths_, "h", src_, at); }

  Result<MigrationReport> migrate(MigrateOptions o, const std::atomic<bool>* cancel = nullptr) {
    MigrationProgress progress;
    std::atomic<bool> never{false};
    return run_migration(paths_.catalog, paths_.pool, *tape_, disks_, o, progress, cancel ? *cancel : never,
                         write_mu_);
  }

  std::unique_ptr<store::Db> db() {
    auto d = store::Db::open(paths_.catalog, false, false);
    EXPECT_TRUE(d.ok());
    return std::move(*d);
  }

  std::int64_t scalar(const std::string& sql) {
    auto d = db();
    auto st = d->prepare(sql);
    EXPECT_TRUE(st.ok()) << sql;
    auto r = st->step();
    EXPECT_TRUE(r.ok() && *r) << sql;
    return st->i64(0);
  }

  // The content and chunk locations of a file of the newest point.
  std::pair<store::ContentRow, std::vector<store::ChunkLocation>> content_of(const std::string& name) {
    auto d = db();
    store::CatalogReader r(*d);
    auto h = r.host("h");
    auto root = r.version_at((*h)->root_node, (*h)->points);
    auto child = r.child_at((*root)->node_id, name, (*h)->points);
    EXPECT_TRUE(child.ok() && child->has_value()) << name;
    auto c = r.content((*child)->version.content_id);
    auto chunks = r.chunk_locations((*child)->version.content_id);
    EXPECT_TRUE(c.ok() && chunks.ok());
    return {*c, *chunks};
  }

  Result<std::vector<std::uint8_t>> read(const std::string& name) {
    auto [content, chunks] = content_of(name);
    return read_with(content, chunks);
  }

  Result<std::vector<std::uint8_t>> read_with(const store::ContentRow& content,
                                              const std::vector<store::ChunkLocation>& chunks) {
    std::vector<std::uint8_t> out;
    ReadRequest rq;
    rq.who = {0, "root"};
    Status s = source_->read(content, chunks, rq, [&](std::span<const std::uint8_t> d) -> Status {
      out.insert(out.end(), d.begin(), d.end());
      return {};
    });
    if (!s.ok()) return s.error();
    return out;
  }

  void expect_all_files_read_back() {
    for (const auto& [name, bytes] : files_) {
      auto got = read(name);
      ASSERT_TRUE(got.ok()) << name << ": " << got.error().message;
      EXPECT_EQ(*got, bytes) << name;
    }
  }

  std::vector<std::string> cartridges_of_pool(int pool) {
    std::vector<std::string> out;
    auto d = db();
    for (const auto& v : *store::list_volumes(*d))
      if (v.kind == "tape" && v.pool == pool) out.push_back(v.volser);
    return out;
  }

  testing::CatalogTempDir tmp_;
  std::string home_, src_;
  DaemonPaths paths_;
  std::map<std::string, std::vector<std::uint8_t>> files_;
  VolumeCache disks_;
  StreamCounters counters_;
  std::mutex write_mu_;
  std::unique_ptr<TapeService> tape_;
  std::unique_ptr<ContentSource> source_;
};

TEST_F(MigrationTest, CopiesEveryChunkTwiceThenEvictsTheDiskVolume) {
  const std::string pool_file = paths_.pool + "/D000001.vol";
  ASSERT_TRUE(std::filesystem::exists(pool_file));
  MigrateOptions o;
  o.all = true;
  o.copies = 2;
  o.commit_bytes = 1u << 20;  // several commit points
  auto rep = migrate(o);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->volumes, std::vector<std::string>{"D000001"});
  EXPECT_EQ(rep->evicted, std::vector<std::string>{"D000001"});
  EXPECT_GE(rep->commits, 4u);
  EXPECT_TRUE(rep->warnings.empty());
  EXPECT_FALSE(std::filesystem::exists(pool_file));
  // No disk copy is left; every chunk has copy 1 and copy 2, on different cartridges.
  EXPECT_EQ(scalar("SELECT count(*) FROM locations WHERE copy = 0"), 0);
  const std::int64_t chunks = scalar("SELECT count(*) FROM chunks");
  EXPECT_EQ(scalar("SELECT count(DISTINCT chunk_id) FROM locations WHERE copy = 1"), chunks);
  EXPECT_EQ(scalar("SELECT count(DISTINCT chunk_id) FROM locations WHERE copy = 2"), chunks);
  EXPECT_EQ(scalar("SELECT count(*) FROM locations a JOIN locations b ON a.chunk_id = b.chunk_id "
                   "AND a.copy = 1 AND b.copy = 2 AND a.volume_id = b.volume_id"),
            0);
  auto one = cartridges_of_pool(1), two = cartridges_of_pool(2);
  EXPECT_GE(one.size(), 2u) << "the data does not fit on one 3 MiB cartridge";
  EXPECT_EQ(one.size(), two.size());
  for (const auto& v : one) EXPECT_NE(tape_->library().find(v)->state, tape::CartridgeState::Scratch);
  EXPECT_EQ(tape_->library().find(one.front())->state, tape::CartridgeState::Full);
  // The catalog and the inventory agree on where each cartridge's data ends.
  auto d = db();
  for (const auto& v : *store::list_volumes(*d)) {
    if (v.kind == "tape") {
      EXPECT_EQ(v.bytes, tape_->library().find(v.volser)->records * tape::kRecordSize) << v.volser;
    }
  }
  // The backup set that wrote the data is on every cartridge it went to.
  for (const auto& v : *store::list_volumes(*d)) {
    if (v.kind == "tape") {
      EXPECT_EQ(store::sets_on_volume(*d, v.id)->size(), 1u) << v.volser;
    }
  }
  expect_all_files_read_back();
  EXPECT_GT(counters_.chunks_from_tape, 0u);
  auto again = migrate(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->chunks, 0u);
}

TEST_F(MigrationTest, ADeadCartridgeIsReadFromTheOtherCopy) {
  MigrateOptions o;
  o.all = true;
  o.copies = 2;
  ASSERT_TRUE(migrate(o).ok());
  for (const auto& v : cartridges_of_pool(1)) {
    std::fstream f(tape_->cartridge_path(v), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(tape::kRecordSize);
    const std::string junk(tape::kRecordSize, 'x');
    f.write(junk.data(), junk.size());
  }
  expect_all_files_read_back();
  EXPECT_GT(tape_->scheduler().stats().fallbacks, 0u);
  EXPECT_GT(tape_->scheduler().stats().read_errors, 0u);
}

TEST_F(MigrationTest, KeepDiskCopiesThenEvictsOnlyWhenEveryChunkHasItsCopies) {
  auto d = db();
  auto vol = *store::volume_by_volser(*d, "D000001");
  auto refused = store::evict_disk_volume(*d, vol->id, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Conflict);
  EXPECT_NE(refused.error().message.find("migrate it first"), std::string::npos);
  MigrateOptions o;
  o.volumes = {"D000001"};
  o.keep_disk = true;
  auto rep = migrate(o);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_TRUE(rep->evicted.empty());
  expect_all_files_read_back();
  EXPECT_EQ(tape_->scheduler().stats().submitted, 0u) << "a disk copy is read before any tape";
  EXPECT_FALSE(store::evict_disk_volume(*d, vol->id, 2).ok()) << "no copy 2 yet";
  auto dropped = store::evict_disk_volume(*d, vol->id, 1);
  ASSERT_TRUE(dropped.ok()) << dropped.error().message;
  EXPECT_EQ(*dropped, vol->chunks);
  EXPECT_EQ((*store::volume_by_volser(*d, "D000001"))->state, "evicted");
  expect_all_files_read_back();
  EXPECT_GT(tape_->scheduler().stats().submitted, 0u);
}

// A long read that found only the disk copy goes on from tape when the volume is evicted under it.
TEST_F(MigrationTest, AReadWhoseDiskVolumeLeftMidwayGoesOnFromTape) {
  auto [content, chunks] = content_of("f11");
  ASSERT_GT(chunks.size(), 2u);
  MigrateOptions o;
  o.all = true;
  ASSERT_TRUE(migrate(o).ok());
  auto without = read_with(content, chunks);
  ASSERT_FALSE(without.ok()) << "the stale locations name only the removed disk volume";
  source_->set_relocate([this](const Digest& sha) -> Result<std::vector<store::StoredCopy>> {
    auto d = db();
    store::CatalogReader r(*d);
    return r.chunk_copies(sha);
  });
  auto got = read_with(content, chunks);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, files_["f11"]);
  EXPECT_EQ(counters_.disk_fallbacks, chunks.size());
}

// After a crash the cartridge may end in records no commit names (and the inventory may lag): a
// new migration writes over that torn tail, and every file still reads back.
TEST_F(MigrationTest, ANewMigrationWritesOverATornTail) {
  MigrateOptions o;
  o.all = true;
  ASSERT_TRUE(migrate(o).ok());
  const std::string last = cartridges_of_pool(1).back();
  const auto committed = (*store::volume_by_volser(*db(), last))->bytes;
  {
    std::ofstream f(tape_->cartridge_path(last), std::ios::binary | std::ios::app);
    f << std::string(tape::kRecordSize + 1000, 'T');  // one whole garbage record and a torn one
  }
  ASSERT_TRUE(tape_->library().note_written(last, 1, committed / tape::kRecordSize + 1, false).ok());
  auto settled = settle_volumes(paths_, tape_.get());
  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_EQ(tape_->library().find(last)->records * tape::kRecordSize, committed)
      << "reconciled with the catalog";
  files_["later"] = testing::random_bytes(500'000, 9);
  write("later");
  import(2000);
  auto rep = migrate(o);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->evicted, std::vector<std::string>{"D000002"});
  std::ifstream f(tape_->cartridge_path(last), std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<std::uint64_t>(f.tellg()) % tape::kRecordSize, 0u) << "no torn record is left";
  expect_all_files_read_back();
}

TEST_F(MigrationTest, ACancelledMigrationKeepsWhatItCommittedAndResumes) {
  MigrateOptions o;
  o.all = true;
  o.commit_bytes = 256u << 10;
  std::atomic<bool> cancel{true};
  auto rep = migrate(o, &cancel);
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().kind, ErrorKind::Cancelled);
  EXPECT_NE(rep.error().message.find("run it again"), std::string::npos);
  EXPECT_EQ((*store::volume_by_volser(*db(), "D000001"))->state, "online");
  expect_all_files_read_back();
  auto resumed = migrate(o);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->evicted, std::vector<std::string>{"D000001"});
  expect_all_files_read_back();
}

TEST_F(MigrationTest, ThePolicyChoosesByAgeAndByPoolFill) {
  files_["later"] = testing::random_bytes(300'000, 11);
  write("later");
  import(2000);
  auto d = db();
  ASSERT_TRUE(d->exec("UPDATE volumes SET created = 100 WHERE volser = 'D000001'").ok());
  ASSERT_TRUE(d->exec("UPDATE volumes SET created = 5000 WHERE volser = 'D000002'").ok());
  MigrateOptions o;
  EXPECT_EQ(select_for_migration(*d, o, paths_.pool).error().kind, ErrorKind::Invalid);
  o.older_than = 1000;
  auto old = select_for_migration(*d, o, paths_.pool);
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ(old->front().volser, "D000001");
  // Pool fill against a capacity: 10x the pool is 10% full, below 50%: nothing.
  const auto pool_bytes =
      (*store::volume_by_volser(*d, "D000001"))->bytes + (*store::volume_by_volser(*d, "D000002"))->bytes;
  MigrateOptions fill;
  fill.pool_above = 50;
  fill.pool_capacity = pool_bytes * 10;
  EXPECT_TRUE(select_for_migration(*d, fill, paths_.pool)->empty());
  // The pool is 100% full of capacity: the oldest volumes go until it would be at most 40%.
  fill.pool_capacity = pool_bytes;
  fill.pool_below = 40;
  auto chosen = select_for_migration(*d, fill, paths_.pool);
  ASSERT_TRUE(chosen.ok());
  ASSERT_FALSE(chosen->empty());
  EXPECT_EQ(chosen->front().volser, "D000001");
  MigrateOptions named;
  named.volumes = {"D000009"};
  EXPECT_EQ(select_for_migration(*d, named, paths_.pool).error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace recall::daemon
