// The catalog schema and its migrations (PRAGMA user_version is the schema version).
#pragma once

#include "catalogd/store/sqlite.h"

namespace recall::store {

inline constexpr int kSchemaVersion = 6;
// A version still valid in the newest point has to_seq = kOpenSeq, so a new point that
// keeps a file writes nothing for it (forward merge at zero cost per unchanged file).
inline constexpr std::int64_t kOpenSeq = std::int64_t{1} << 62;

// Brings the database to kSchemaVersion inside one transaction; refuses a newer schema.
Status migrate(Db& db);

}  // namespace recall::store
