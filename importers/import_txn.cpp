#include "importers/import_txn.h"

#include <nlohmann/json.hpp>

namespace recall::import {

Status ImportTxn::commit(const nlohmann::json& stats) {
  RECALL_TRY(chunks->finish());
  RECALL_TRY(writer->commit(stats.dump()));
  chunks.reset();  // committed: nothing to discard any more
  return {};
}

}  // namespace recall::import
