// `recall import manifest`: records the sets of a Recall manifest (JSON Lines; see manifest.h) as
// points of their hosts. Metadata comes from the manifest. A file's bytes are found by its SHA-256
// among contents Recall already has, or read in place from an archive volume Recall knows (a tar
// imported before) at the offset the manifest gives; any other file is listed but unavailable,
// with the reason. The whole manifest is one transaction: every set is recorded, or none.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "catalogd/store/sqlite.h"
#include "importers/chunker.h"
#include "importers/import_progress.h"

namespace recall::import {

struct ManifestImportOptions {
  std::string manifest;  // absolute path; .gz, .xz and .zst are read through
  ChunkerParams chunker;
};

// The report as JSON: {"manifest", "source", "sets":[{set, host, at, seq, kind, entries, changed,
// unchanged, deleted, files, available, unavailable}], "lines", "unavailable_examples", "warnings",
// "already_imported", "seconds"}.
Result<nlohmann::json> import_manifest(store::Db& db, const ManifestImportOptions& options,
                                       ImportProgress& progress, const std::atomic<bool>& cancel);

}  // namespace recall::import
