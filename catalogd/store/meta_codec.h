// How FileMeta's variable parts (xattrs, ACLs) are stored in versions.extra (JSON).
#pragma once

#include <string>

#include "common/file_meta.h"

namespace recall::store {

// "" when the meta has no xattrs and no ACLs (the common case: stored as NULL).
std::string encode_extra(const FileMeta& m);
void decode_extra(const std::string& json, FileMeta& m);
char type_code(FileType t);
FileType type_from_code(char c);

}  // namespace recall::store
