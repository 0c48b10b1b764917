// GNU tar's dumpdir: the list of a directory's children that `tar --listed-incremental` stores with
// every directory (the data of a 'D' member, or the pax key GNU.dumpdir). Each entry is a code and
// a name: Y present and included, N present and unchanged (in an earlier archive), D a directory,
// R/T a rename from/to (paths from the archive root; empty means the temporary slot), X the
// temporary slot's name. Children of the previous state that are not listed are deleted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace recall::import {

struct DumpdirEntry {
  char code = 0;  // Y N D R T X
  std::string name;
};

// Parses `data` (entries "<code><name>\0", ended by an empty entry or the end of the data).
// Invalid for an unknown code, an unterminated entry, or a Y/N/D name that is empty, "." or
// "..", or contains '/'.
Result<std::vector<DumpdirEntry>> parse_dumpdir(std::string_view data);

}  // namespace recall::import
