#include "catalogd/store/sqlite.h"

namespace recall::store {

Error sqlite_error(sqlite3* db, std::string_view what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "sqlite error");
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    return make_error(ErrorKind::Timeout, msg);
  if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
    return make_error(ErrorKind::Corrupt, msg);
  if ((code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR || (code & 0xff) == SQLITE_CANTOPEN)
    return make_error(ErrorKind::Io, msg);
  return make_error(ErrorKind::Internal, msg);
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::span<const std::uint8_t> blob) {
  sqlite3_bind_blob(s_, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "catalog query failed");
}

Status Stmt::run() {
  auto r = step();
  if (!r.ok()) return r.error();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}

std::span<const std::uint8_t> Stmt::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, col));
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))};
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, bool create, bool read_only) {
  // Memory statistics put a global lock around every allocation SQLite makes; nothing reads them.
  // Set before SQLite initialises itself, i.e. before the first connection.
  static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
  (void)configured;
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(raw, "cannot open catalog " + path);
    sqlite3_close(raw);
    return e;
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  // WAL: readers never wait for the one writer (an import), and a killed writer leaves
  // the last committed state. synchronous=NORMAL is durable at checkpoint and safe in WAL.
  if (!read_only) RECALL_TRY(db->exec("PRAGMA journal_mode=WAL"));
  RECALL_TRY(
      db->exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
               "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456"));
  return db;
}

Db::~Db() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return sqlite_error(db_, "catalog statement failed (" + msg + ")");
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                         nullptr) != SQLITE_OK)
    return sqlite_error(db_, "cannot prepare catalog query");
  return Stmt(db_, s);
}

Result<StmtRef> Db::cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto s = prepare(sql);
    if (!s.ok()) return s.error();
    it = cache_.emplace(sql, std::make_unique<Stmt>(std::move(*s))).first;
  }
  return StmtRef(*it->second);
}

Result<Transaction> Transaction::begin(Db& db) {
  const bool nested = sqlite3_get_autocommit(db.raw()) == 0;
  RECALL_TRY(db.exec(nested ? "SAVEPOINT recall_nested" : "BEGIN IMMEDIATE"));
  return Transaction(db, nested);
}

Transaction::~Transaction() {
  if (!db_) return;
  if (nested_)
    (void)db_->exec("ROLLBACK TO recall_nested; RELEASE recall_nested");
  else
    (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status s = db_->exec(nested_ ? "RELEASE recall_nested" : "COMMIT");
  if (s.ok()) db_ = nullptr;
  return s;
}

}  // namespace recall::store
