// Routes under /v1/fs/ that recall-fs uses: what the mount presents, in the shape the kernel
// wants it (owners mapped to local ids, ACLs as xattrs, hard links grouped), listed a whole
// subtree at a time so a cold traversal costs few round trips.
#pragma once

#include <functional>
#include <string>

#include "auth/owner_map.h"
#include "catalogd/daemon/query_args.h"
#include "catalogd/http/responder.h"
#include "catalogd/service/catalog_view.h"

namespace recall::daemon {

// GET /v1/fs/hosts                 the caller's hosts with their points (JSON)
// GET /v1/fs/tree?point&node&budget   directory `node` at `point`, then more directories below
//                                  it breadth first until `budget` entries (fs_wire, binary)
// GET /v1/fs/lookup?point&node&name  one name in a directory the caller may search (binary)
// GET /v1/fs/history?host&node     the @versions view of a node: its versions the caller may
//                                  read, named by when each appeared, and its child names (binary)
// GET /v1/fs/info?version          user.recall.* facts of one version (JSON)
// Answers a route under /v1/fs/ (any other path is NotFound).
// `where` says where one stored copy of a chunk is, in words ("tape R00003 copy 1, in drive 0").
using CopyWords = std::function<std::string(const store::StoredCopy&)>;
void handle_fs(const std::string& path, const Query& q, service::CatalogView& view, store::CatalogReader& r,
               OwnerMap& owners, const CopyWords& where, Responder& out);

}  // namespace recall::daemon
