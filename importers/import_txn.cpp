#include "importers/import_txn.h"

#include <nlohmann/json.hpp>

#include "importers/point_record_store.h"

namespace recall::import {

Status ImportTxn::commit(const nlohmann::json& stats) {
  const std::string stats_json = stats.dump();
  if (record_point) {
    auto record = record_of_point(*writer, stats_json);
    if (!record.ok()) return record.error();
    auto parts = store_point_record(*writer, *chunks, *record);
    if (!parts.ok()) return parts.error();
  }
  RECALL_TRY(chunks->finish());
  RECALL_TRY(writer->commit(stats_json));
  chunks.reset();  // committed: nothing to discard any more
  return {};
}

}  // namespace recall::import
