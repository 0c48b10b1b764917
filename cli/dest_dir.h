// Where a restore writes: DEST resolved without trusting anyone else's symlinks. Every component
// of DEST's path is opened with O_NOFOLLOW from "/" (or the working directory); a symlink on the
// way is followed only when root or the caller owns it, as fs.protected_symlinks does in sticky
// directories, but everywhere. Otherwise a user could point a name at /etc and have root (or
// the help desk, restoring on their behalf) write there.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace recall::cli {

struct DestDir {
  UniqueFd dir;       // the directory the restored item goes into (O_RDONLY | O_DIRECTORY)
  std::string name;   // the name it gets there; "" when DEST is that directory itself
  std::string shown;  // the directory as a person would name it, for messages
  bool into = false;  // DEST is an existing directory: the item goes in under its own name
};

// cp semantics: when DEST is an existing directory (and `base` is not empty) the item goes into
// DEST under `base`, else DEST names the item itself. `caller` is the uid whose own symlinks may
// be followed (root's always are). A symlink owned by anyone else is refused in one line naming
// it, its owner and what to do.
Result<DestDir> open_dest(const std::string& dest, const std::string& base, uid_t caller);

}  // namespace recall::cli
