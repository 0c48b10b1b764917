// The whole tar importer (importers/tar_importer.h) on arbitrary archives, into a real catalog:
// an import either succeeds or fails, and a failed one leaves the catalog as it was (the number of
// points and volumes is checked after every input).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "catalogd/store/schema.h"
#include "catalogd/store/sqlite.h"
#include "importers/tar_importer.h"

namespace {

struct World {
  std::string dir, archive;
  std::unique_ptr<recall::store::Db> db;
  recall::UnixTime next_at = 1'700'000'000;
};

World& world() {
  static World w = [] {
    World x;
    char tmpl[] = "/tmp/recall-fuzz-tar-XXXXXX";
    x.dir = mkdtemp(tmpl);
    std::filesystem::create_directories(x.dir + "/pool");
    x.archive = x.dir + "/input.tar";
    auto db = recall::store::Db::open(x.dir + "/catalog.db", true, false);
    if (!db.ok() || !recall::store::migrate(**db).ok()) std::abort();
    x.db = std::move(*db);
    return x;
  }();
  return w;
}

std::int64_t count(recall::store::Db& db, const char* sql) {
  auto q = db.prepare(sql);
  if (!q.ok() || !q->step().ok()) std::abort();
  return q->i64(0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  int fd = ::open(w.archive.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  ::close(fd);
  const auto points = count(*w.db, "SELECT count(*) FROM points");
  const auto volumes = count(*w.db, "SELECT count(*) FROM volumes");
  recall::import::TarImportOptions o;
  o.host = "fuzz";
  o.at = w.next_at++;
  o.archive = w.archive;
  o.pool_dir = w.dir + "/pool";
  recall::import::ImportProgress progress;
  std::atomic<bool> cancel{false};
  auto r = recall::import::import_tar(*w.db, o, progress, cancel);
  if (!r.ok() && (count(*w.db, "SELECT count(*) FROM points") != points ||
                  count(*w.db, "SELECT count(*) FROM volumes") != volumes))
    std::abort();  // a failed import changed the catalog
  return 0;
}
