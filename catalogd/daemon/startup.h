// Getting a recalld home ready: folders with the right modes, the catalog migrated, and
// volume files left by killed imports moved aside.
#pragma once

#include <string>
#include <vector>

#include "catalogd/daemon/api.h"

namespace recall::daemon {

// Creates HOME (0711: others may reach the socket, nothing else).
Status ensure_home_dir(const DaemonPaths& paths);
// Under the daemon lock: creates HOME/pool (0700) and the catalog, and migrates its schema;
// creates HOME/stage (0700) and empties it (staged copies are anonymous files; a named one is
// only left by a crash on a filesystem without O_TMPFILE).
Status prepare_home(const DaemonPaths& paths);
// Moves HOME/pool/*.vol files the catalog does not know (written by an import that was
// killed before it committed) to HOME/orphans/, where an admin may delete them. Returns their names.
Result<std::vector<std::string>> set_aside_orphan_volumes(const DaemonPaths& paths);
// Removes the files of disk volumes the catalog has evicted (a crash between an eviction's commit
// and its unlink leaves them), and brings the tape library's inventory in line with the catalog
// (a crash between a migration's commit and the inventory's save). Returns what it did, in words.
Result<std::vector<std::string>> settle_volumes(const DaemonPaths& paths, TapeService* tape);

}  // namespace recall::daemon
