#include "catalogd/daemon/read_connection.h"

#include <memory>

namespace recall::daemon {

Result<store::CatalogReader*> thread_reader(const std::string& catalog) {
  thread_local std::string open_path;
  thread_local std::unique_ptr<store::Db> db;
  thread_local std::unique_ptr<store::CatalogReader> r;
  if (!r || open_path != catalog) {  // another catalog: only in tests, which run several homes
    r.reset();
    db.reset();
    auto d = store::Db::open(catalog, false, true);
    if (!d.ok()) return d.error();
    db = std::move(*d);
    r = std::make_unique<store::CatalogReader>(*db);
    open_path = catalog;
  }
  return r.get();
}

}  // namespace recall::daemon
