// A thin RAII layer over the SQLite C API: one Db per connection (never shared between
// threads), prepared statements cached per connection, errors as Result.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace recall::store {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  ~Stmt();

  // Bind by 1-based index. Text and blobs are copied by SQLite (SQLITE_TRANSIENT).
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view text);
  Stmt& bind_blob(int i, std::span<const std::uint8_t> blob);
  Stmt& bind_null(int i);
  // Advances; true while a row is available, false when done. Errors become Error.
  Result<bool> step();
  // step() for statements that return no rows.
  Status run();
  void reset();

  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::span<const std::uint8_t> blob(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

// A non-owning handle to a cached statement that resets itself when it goes out of scope.
class StmtRef {
 public:
  explicit StmtRef(Stmt& s) : s_(&s) {}
  StmtRef(const StmtRef&) = delete;
  StmtRef(StmtRef&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  ~StmtRef() {
    if (s_) s_->reset();
  }
  Stmt* operator->() { return s_; }
  Stmt& operator*() { return *s_; }

 private:
  Stmt* s_;
};

class Db {
 public:
  // Opens (creating if asked) a database in WAL mode with a busy timeout.
  static Result<std::unique_ptr<Db>> open(const std::string& path, bool create, bool read_only);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(std::string_view sql);
  Result<Stmt> prepare(std::string_view sql);
  // A statement prepared once per connection; the text is the cache key.
  Result<StmtRef> cached(const char* sql);
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
};

Error sqlite_error(sqlite3* db, std::string_view what);

// Binds `name` to the statement cached on Db `db` for `sql`, returning the error if preparing fails.
#define RECALL_CACHED_STMT(name, db, sql)      \
  auto name##_r = (db).cached(sql);            \
  if (!name##_r.ok()) return name##_r.error(); \
  auto& name = *name##_r

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
// Inside another transaction it is a savepoint: its commit only keeps its changes for the outer
// one to commit (an import of many points is one outer transaction of one per point).
class Transaction {
 public:
  static Result<Transaction> begin(Db& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_), nested_(o.nested_) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  Transaction(Db& db, bool nested) : db_(&db), nested_(nested) {}
  Db* db_;
  bool nested_;
};

}  // namespace recall::store
