// The compact binary listing recalld sends recall-fs (GET /v1/fs/tree): a cold `find` over a
// point lists every directory once, so encoding and parsing must cost next to nothing; JSON
// made a cold traversal several times slower. Integers are LEB128 varints (signed ones
// zigzag), strings are length-prefixed bytes, so names are carried exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace recall::fswire {

// One path of a point as the mount presents it: owners already mapped to local ids, ACLs
// already in the kernel's xattr format (system.posix_acl_access/default among xattrs).
struct Entry {
  std::string name;
  std::int64_t node_id = 0;
  std::int64_t version_id = 0;
  std::int64_t link_node = 0;  // hard links: the group's node at this point (0 = not linked)
  char type = 'f';             // FileType code
  std::uint32_t mode = 0;      // permission bits
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t size = 0, nlink = 1, rdev = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  std::string link_target;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// A directory at one point: its own entry, then its children sorted by name.
struct Listing {
  Entry self;
  std::vector<Entry> children;
};

void encode(std::string& out, const Listing& l);
// Every listing in `bytes`; Corrupt if they are cut off or malformed.
Result<std::vector<Listing>> decode(std::string_view bytes);

}  // namespace recall::fswire
