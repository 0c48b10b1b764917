// One import's transaction: the point being written and the disk-pool volumes its new chunks
// go to. Until commit() succeeds nothing is visible; abort() (or dropping the transaction)
// rolls the point back and removes the volumes, so a failed, refused or cancelled import
// leaves the catalog and the pool exactly as they were.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "catalogd/store/catalog_writer.h"
#include "importers/chunk_store.h"

namespace recall::import {

struct ImportTxn {
  std::optional<store::PointWriter> writer;
  std::unique_ptr<ChunkStore> chunks;
  // Imports into the disk pool write their point's record onto it at commit (`recall scan`).
  bool record_point = false;

  ImportTxn() = default;
  ImportTxn(const ImportTxn&) = delete;
  ImportTxn& operator=(const ImportTxn&) = delete;
  ~ImportTxn() { abort(); }

  void open(store::PointWriter w, const std::string& pool_dir, ImportProgress& progress, int zstd_level) {
    writer.emplace(std::move(w));
    chunks = std::make_unique<ChunkStore>(*writer, pool_dir, progress, zstd_level);
  }
  // Rolls back and passes the error on: `return txn_.fail(e);`.
  Error fail(Error e) {
    abort();
    return e;
  }
  void abort() {
    writer.reset();
    if (chunks) chunks->discard();
    chunks.reset();
  }
  // Makes the new volume bytes durable, then commits the point with its import statistics.
  Status commit(const nlohmann::json& stats);
};

}  // namespace recall::import
