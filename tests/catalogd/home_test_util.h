// A tree imported for real into a daemon home, for the daemon's tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "catalogd/daemon/api.h"
#include "importers/dir_importer.h"

namespace recall::testing {

// Imports `src` as host `host` at time `at`, recorded as `/`, into the home of `paths`.
inline void import_tree(const daemon::DaemonPaths& paths, const std::string& host, const std::string& src,
                        UnixTime at) {
  auto db = store::Db::open(paths.catalog, false, false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  import::DirImportOptions o;
  o.host = host;
  o.at = at;
  o.source = src;
  o.record_as = "/";
  o.pool_dir = paths.pool;
  o.catalog_path = paths.catalog;
  o.threads = 1;
  import::ImportProgress progress;
  std::atomic<bool> cancel{false};
  auto rep = import::import_dir(**db, o, progress, cancel);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
}

}  // namespace recall::testing
