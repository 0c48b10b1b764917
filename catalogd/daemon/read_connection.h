// The catalog's read side for request threads (HTTP connections, data connections).
#pragma once

#include <string>

#include "catalogd/store/catalog_reader.h"

namespace recall::daemon {

// This thread's read connection, opened on first use: SQLite connections must not be shared, and
// in WAL mode each sees the last committed state without waiting for an import.
Result<store::CatalogReader*> thread_reader(const std::string& catalog);

// Every query of one request reads the same committed state, even while an import commits in
// between. end() early before long work (staging, streaming) so it does not pin the snapshot.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(store::Db& db) : db_(db) { open_ = db_.exec("BEGIN").ok(); }
  ~ReadSnapshot() { end(); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  void end() {
    if (open_) (void)db_.exec("COMMIT");
    open_ = false;
  }

 private:
  store::Db& db_;
  bool open_ = false;
};

}  // namespace recall::daemon
