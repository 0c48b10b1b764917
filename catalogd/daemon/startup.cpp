#include "catalogd/daemon/startup.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "catalogd/store/catalog_writer.h"
#include "catalogd/store/schema.h"
#include "catalogd/store/volume_catalog.h"

namespace recall::daemon {
namespace fs = std::filesystem;

static Status make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return io_error("cannot create " + path, errno);
  if (::chmod(path.c_str(), mode) != 0) return io_error("cannot set the mode of " + path, errno);
  return {};
}

Status ensure_home_dir(const DaemonPaths& paths) { return make_dir(paths.home, 0711); }

Status prepare_home(const DaemonPaths& paths) {
  RECALL_TRY(make_dir(paths.pool, 0700));
  RECALL_TRY(make_dir(stage_dir(paths), 0700));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(stage_dir(paths), ec)) fs::remove_all(e.path(), ec);
  auto db = store::Db::open(paths.catalog, true, false);
  if (!db.ok()) return db.error();
  RECALL_TRY(store::migrate(**db));
  ::chmod(paths.catalog.c_str(), 0600);
  // Names of an import that committed just before recalld stopped (or was killed).
  if (auto n = store::index_new_names(**db); !n.ok()) return n.error();
  return {};
}

Result<std::vector<std::string>> set_aside_orphan_volumes(const DaemonPaths& paths) {
  auto db = store::Db::open(paths.catalog, false, false);
  if (!db.ok()) return db.error();
  std::set<std::string> known;
  {
    auto q = (*db)->prepare("SELECT path FROM volumes");
    if (!q.ok()) return q.error();
    for (;;) {
      auto r = q->step();
      if (!r.ok()) return r.error();
      if (!*r) break;
      known.insert(q->text(0));
    }
  }
  std::vector<std::string> moved;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(paths.pool, ec)) {
    if (e.path().extension() != ".vol" || known.count(e.path().string())) continue;
    std::string orphans = paths.home + "/orphans";
    RECALL_TRY(make_dir(orphans, 0700));
    fs::rename(e.path(), orphans + "/" + e.path().filename().string(), ec);
    if (ec) return make_error(ErrorKind::Io, "cannot move " + e.path().string() + " aside: " + ec.message());
    moved.push_back(e.path().filename().string());
  }
  return moved;
}

Result<std::vector<std::string>> settle_volumes(const DaemonPaths& paths, TapeService* tape) {
  auto db = store::Db::open(paths.catalog, false, false);
  if (!db.ok()) return db.error();
  std::vector<std::string> done;
  auto evicted = store::evicted_volume_paths(**db);
  if (!evicted.ok()) return evicted.error();
  for (const auto& p : *evicted)
    if (::unlink(p.c_str()) == 0) done.push_back("removed " + p + ", a disk volume evicted to tape");
  if (!tape) return done;
  auto volumes = store::list_volumes(**db);
  if (!volumes.ok()) return volumes.error();
  for (const auto& v : *volumes) {
    if (v.kind != "tape") continue;
    if (Status s =
            tape->library().reconcile(v.volser, v.pool, v.bytes / tape::kRecordSize, v.state == "full");
        !s.ok())
      done.push_back("catalog and library disagree: " + s.error().message);
  }
  return done;
}

}  // namespace recall::daemon
