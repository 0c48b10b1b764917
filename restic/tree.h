// restic tree blobs (formats.md §1.6): one directory's nodes, as JSON. Names went through Go's
// strconv.Quote (invalid UTF-8 as \xhh), modes are Go os.FileMode bits: both are converted here
// so the rest of Recall sees raw names and POSIX modes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file_meta.h"
#include "common/result.h"
#include "common/sha256.h"

namespace recall::restic {

struct Node {
  std::string name;  // raw bytes, never empty, no '/' or NUL, not '.' or '..'
  FileType type = FileType::Regular;
  bool irregular = false;  // restic's "irregular" (a file it could not classify)
  std::uint32_t mode = 0;  // POSIX permission bits, 07777
  std::int64_t mtime_ns = 0, atime_ns = 0, ctime_ns = 0;
  std::uint32_t uid = 0, gid = 0;
  std::string user, group;
  std::uint64_t inode = 0, device_id = 0, links = 1, size = 0, rdev = 0;
  std::string link_target;
  std::vector<Digest> content;    // data blobs, in order (files)
  std::optional<Digest> subtree;  // directories
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// The nodes of one tree blob, in stored order. Corrupt (naming the node) for anything a
// hostile or damaged repository could put there: bad JSON, a name with '/', NUL, '.', '..' or
// over 255 bytes, an unknown type, a directory without a subtree, an ID that is not 64 hex digits.
Result<std::vector<Node>> parse_tree(std::string_view json);

// Undoes Go's strconv.Quote body (without the quotes): \xhh, \ooo, \uXXXX, \UXXXXXXXX and the
// single-letter escapes. nullopt when an escape is malformed.
std::optional<std::string> go_unquote(std::string_view quoted);

// The POSIX permission bits (07777) of a Go os.FileMode: perm plus setuid, setgid, sticky.
std::uint32_t posix_mode(std::uint64_t go_mode);

}  // namespace recall::restic
