// Turns what the host's filesystem says about a path into a FileMeta.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/file_meta.h"
#include "common/result.h"

namespace recall::import {

class FileMetaReader {
 public:
  // The cheap part, from lstat alone: enough to decide whether a file changed.
  FileMeta from_stat(const struct stat& st);
  // The rest: symlink target, xattrs and POSIX ACLs (one listxattr for most files).
  Status add_extras(const std::string& path, FileMeta& meta);

 private:
  const std::string& user_name(std::uint32_t uid);
  const std::string& group_name(std::uint32_t gid);
  std::unordered_map<std::uint32_t, std::string> users_, groups_;
};

// True when a path's cheap metadata says its recorded version can be kept as it is:
// for regular files size, mtime, ctime and inode (ctime also moves on xattr and ACL changes).
bool unchanged(const FileMeta& prev, const FileMeta& now);

}  // namespace recall::import
