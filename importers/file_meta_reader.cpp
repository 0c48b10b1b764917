#include "importers/file_meta_reader.h"

#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "auth/acl_io.h"
#include "auth/owner_map.h"

namespace recall::import {
namespace {

FileType type_of(mode_t m) {
  if (S_ISDIR(m)) return FileType::Directory;
  if (S_ISLNK(m)) return FileType::Symlink;
  if (S_ISCHR(m)) return FileType::CharDevice;
  if (S_ISBLK(m)) return FileType::BlockDevice;
  if (S_ISFIFO(m)) return FileType::Fifo;
  if (S_ISSOCK(m)) return FileType::Socket;
  return FileType::Regular;
}

constexpr std::string_view kAclAccess = "system.posix_acl_access";
constexpr std::string_view kAclDefault = "system.posix_acl_default";

}  // namespace

const std::string& FileMetaReader::user_name(std::uint32_t uid) {
  auto it = users_.find(uid);
  if (it == users_.end()) {
    auto n = lookup_user_name(uid);
    it = users_.emplace(uid, n.ok() ? *n : std::string()).first;
  }
  return it->second;
}

const std::string& FileMetaReader::group_name(std::uint32_t gid) {
  auto it = groups_.find(gid);
  if (it == groups_.end()) {
    auto n = lookup_group_name(gid);
    it = groups_.emplace(gid, n.ok() ? *n : std::string()).first;
  }
  return it->second;
}

FileMeta FileMetaReader::from_stat(const struct stat& st) {
  FileMeta m;
  m.type = type_of(st.st_mode);
  m.mode = st.st_mode & 07777;
  m.uid = st.st_uid;
  m.gid = st.st_gid;
  m.user = user_name(st.st_uid);
  m.group = group_name(st.st_gid);
  m.size = (m.type == FileType::Regular || m.type == FileType::Symlink) ? static_cast<std::uint64_t>(st.st_size) : 0;
  m.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  m.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  m.ino = st.st_ino;
  m.nlink = static_cast<std::uint32_t>(st.st_nlink);
  m.rdev = (m.type == FileType::CharDevice || m.type == FileType::BlockDevice) ? st.st_rdev : 0;
  return m;
}

Status FileMetaReader::add_extras(const std::string& path, FileMeta& meta) {
  if (meta.type == FileType::Symlink) {
    std::string target(std::max<std::uint64_t>(meta.size, 255) + 1, '\0');
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return io_error("readlink " + path, errno);
    target.resize(static_cast<std::size_t>(n));
    meta.link_target = std::move(target);
    meta.size = meta.link_target.size();
  }
  std::vector<char> names(1024);
  ssize_t n;
  for (;;) {
    n = llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) break;
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      if (names.size() > (1 << 20)) return make_error(ErrorKind::Invalid, path + ": too many xattrs");
      continue;
    }
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return {};
    return io_error("listxattr " + path, errno);
  }
  bool has_acl = false;
  for (ssize_t i = 0; i < n;) {
    std::string name(names.data() + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (name == kAclAccess || name == kAclDefault) {
      has_acl = true;
      continue;
    }
    std::string value(256, '\0');
    ssize_t len;
    for (;;) {
      len = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (len >= 0 || errno != ERANGE || value.size() > (1 << 20)) break;
      value.resize(value.size() * 4);
    }
    if (len < 0) continue;  // vanished or unreadable: not worth failing the file for
    value.resize(static_cast<std::size_t>(len));
    meta.xattrs.emplace_back(std::move(name), std::move(value));
  }
  std::sort(meta.xattrs.begin(), meta.xattrs.end());
  if (has_acl) RECALL_TRY(read_acls(path.c_str(), is_dir(meta), meta));
  return {};
}

bool unchanged(const FileMeta& prev, const FileMeta& now) {
  if (prev.type != now.type || prev.ctime_ns != now.ctime_ns || prev.mtime_ns != now.mtime_ns ||
      prev.ino != now.ino || prev.mode != now.mode || prev.uid != now.uid || prev.gid != now.gid)
    return false;
  if (now.type == FileType::Regular || now.type == FileType::Symlink) return prev.size == now.size;
  if (now.type == FileType::Directory) return prev.nlink == now.nlink;
  return prev.rdev == now.rdev;
}

}  // namespace recall::import
