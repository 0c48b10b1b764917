// `recall scan VOLUME...`: rebuilds the catalog from Recall's own disk-pool volumes, for the day
// the catalog is lost. Every chunk block becomes a chunk with its location; every point record
// found (point_record.h) becomes its point again, forward-merged in time order per host, so the
// rebuilt catalog lists the same points and restores the same bytes. One transaction: the whole
// scan is recorded, or nothing. Volumes and points the catalog already has are left alone, so a
// scan of an intact catalog's volumes is a no-op.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalogd/store/sqlite.h"
#include "importers/import_progress.h"

namespace recall::import {

struct VolumeScanOptions {
  std::vector<std::string> volumes;  // absolute paths of volume files (HOME/pool/D000001.vol)
  // A damaged block stops the scan (the catalog is unchanged) unless salvaging: then the blocks
  // before the damage are kept, what follows is not read, and files whose chunks were not found
  // are listed as unavailable with the reason.
  bool salvage = false;
};

// The report as JSON: {"volumes":[{volser, path, blocks, chunks, new_chunks, records, known,
// damage?}], "points":[{host, at, seq, importer, entries, changed, deleted, files, unavailable}],
// "already":[{host, at}], "skipped":[{host, at, reason}], "incomplete_records", "warnings", "seconds"}.
Result<nlohmann::json> scan_volumes(store::Db& db, const VolumeScanOptions& options, ImportProgress& progress,
                                    const std::atomic<bool>& cancel);

}  // namespace recall::import
