// The metadata of one version of one path, as recorded on the host at backup time.
// Shared by importers (which fill it), the catalog (which stores it), auth (which judges
// access by it) and the front ends (which show it).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace recall {

enum class FileType : char {
  Regular = 'f',
  Directory = 'd',
  Symlink = 'l',
  CharDevice = 'c',
  BlockDevice = 'b',
  Fifo = 'p',
  Socket = 's',
};

// One POSIX ACL entry as recorded: the id on the host plus the name it had there, so
// that auth/ can map it to today's local identity by name, falling back to the id.
struct AclEntry {
  enum class Tag : std::uint8_t { UserObj, User, GroupObj, Group, Mask, Other };
  Tag tag = Tag::Other;
  std::uint32_t id = 0;   // qualifier for User/Group entries, unused otherwise
  std::string name;       // user or group name on the host, if known
  std::uint8_t perm = 0;  // 4 = read, 2 = write, 1 = execute
  bool operator==(const AclEntry&) const = default;
};

using Xattrs = std::vector<std::pair<std::string, std::string>>;  // sorted by name

struct FileMeta {
  FileType type = FileType::Regular;
  std::uint32_t mode = 0;  // permission bits only: 07777
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string user;   // owner's name on the host ("" if unknown)
  std::string group;  // group's name on the host ("" if unknown)
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t ino = 0;    // inode on the host: hard links share it within one point
  std::uint32_t nlink = 1;
  std::uint64_t rdev = 0;   // devices
  std::string link_target;  // symlinks
  Xattrs xattrs;            // without system.posix_acl_* (those are parsed below)
  std::vector<AclEntry> acl;          // extended access ACL; empty when mode bits say it all
  std::vector<AclEntry> default_acl;  // directories only
  bool operator==(const FileMeta&) const = default;
};

inline bool is_dir(const FileMeta& m) { return m.type == FileType::Directory; }

}  // namespace recall
