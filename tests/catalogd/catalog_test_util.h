// Shared helpers for the catalog tests: a temp dir per test and a migrated catalog in it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "catalogd/store/catalog_reader.h"
#include "catalogd/store/catalog_writer.h"
#include "catalogd/store/schema.h"
#include "catalogd/store/sqlite.h"

namespace recall::testing {

class CatalogTempDir {
 public:
  CatalogTempDir() {
    std::string templ = "/tmp/recall-catalog-XXXXXX";
    const char* p = ::mkdtemp(templ.data());
    if (p) path_ = p;
  }
  ~CatalogTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  CatalogTempDir(const CatalogTempDir&) = delete;
  CatalogTempDir& operator=(const CatalogTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A test with its own directory and a freshly migrated catalog in it.
class CatalogFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty()) << "mkdtemp failed";
    db_path_ = tmp_.path() + "/catalog.db";
    auto db = store::Db::open(db_path_, true, false);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    auto m = store::migrate(*db_);
    ASSERT_TRUE(m.ok()) << m.error().message;
  }
  void TearDown() override { db_.reset(); }

  std::int64_t scalar(const std::string& sql) {
    auto st = db_->prepare(sql);
    EXPECT_TRUE(st.ok()) << sql;
    if (!st.ok()) return -1;
    auto r = st->step();
    EXPECT_TRUE(r.ok() && *r) << sql;
    if (!r.ok() || !*r) return -1;
    return st->i64(0);
  }

  CatalogTempDir tmp_;
  std::string db_path_;
  std::unique_ptr<store::Db> db_;
};

inline FileMeta dir_meta(std::uint32_t mode = 0755, std::uint32_t uid = 0, std::string user = "root") {
  FileMeta m;
  m.type = FileType::Directory;
  m.mode = mode;
  m.uid = uid;
  m.gid = uid;
  m.user = user;
  m.group = std::move(user);
  m.nlink = 2;
  m.mtime_ns = 1'000'000'000;
  m.ctime_ns = 1'000'000'000;
  return m;
}

inline FileMeta file_meta(std::uint32_t mode = 0644, std::uint64_t size = 10, std::uint32_t uid = 0,
                          std::string user = "root") {
  FileMeta m;
  m.type = FileType::Regular;
  m.mode = mode;
  m.uid = uid;
  m.gid = uid;
  m.user = user;
  m.group = std::move(user);
  m.size = size;
  m.mtime_ns = 1'000'000'000;
  m.ctime_ns = 1'000'000'000;
  return m;
}

}  // namespace recall::testing
