// `recall import restic`: records the snapshots of a restic repository (format 1 or 2) as points
// of their hosts, without copying data. Each snapshot's trees become the point's versions; each
// data blob becomes a chunk (its ID is the SHA-256 of its plain bytes, so blobs shared between
// files and snapshots, or with Recall's own pool, are stored once); each pack is registered as a
// volume of kind 'archive' and its blobs are read in place, decrypted and checked on the way out.
// The repository's master key is kept in recalld's home (root only), not its password.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "catalogd/store/sqlite.h"
#include "importers/import_progress.h"

namespace recall::import {

struct ResticImportOptions {
  std::string repo;      // absolute path of the repository directory
  std::string password;  // opens one of its key files
  std::string host;      // only snapshots of this host ("" = every host)
  std::string key_dir;   // where recalld keeps the keys of imported repositories
};

// One transaction for all snapshots: every new snapshot is recorded, or none (a wrong password,
// a damaged tree, a cancel leave the catalog as before). Snapshots imported before are skipped;
// when all are, the report says already_imported. Report: {"repo", "repository_id", "version",
// "snapshots":[{snapshot, host, at, seq, paths, entries, changed, unchanged, deleted, files,
// unavailable}], "skipped":[{snapshot, reason}], "packs", "blobs", "already_imported", "seconds",
// "warnings"}.
Result<nlohmann::json> import_restic(store::Db& db, const ResticImportOptions& options,
                                     ImportProgress& progress, const std::atomic<bool>& cancel);

// The file in `key_dir` holding the key `key_ref` (as volumes record it).
std::string key_file_path(const std::string& key_dir, const std::string& key_ref);

}  // namespace recall::import
