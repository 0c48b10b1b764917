// Reading a file's POSIX ACLs into FileMeta (for importers), and showing them to people.
#pragma once

#include <string>
#include <vector>

#include "common/file_meta.h"
#include "common/result.h"

namespace recall {

// Fills meta.acl with the access ACL when it is extended (more than the three entries the
// mode bits already say) and, for directories, meta.default_acl with the default ACL when
// there is one. Both are cleared first. meta.type must already be set (from lstat): symlinks
// have no ACLs of their own and acl_get_file would follow them, so they are skipped. Named
// entries get today's local name of their id ("" if none). A filesystem without ACL support
// (ENOTSUP) means "no ACL", not an error.
// Path-based because default ACLs can only be read by path: call it right after lstat.
Status read_acls(const char* path, bool is_dir, FileMeta& meta);

// getfacl-like one-liner, e.g. "user::rwx,user:alice:r-x,group::r-x,mask::r-x,other::---";
// a named entry shows its name if known, else its id. "" for an empty ACL.
std::string acl_to_text(const std::vector<AclEntry>& acl);

}  // namespace recall
