#include "auth/acl_io.h"

#include <acl/libacl.h>
#include <sys/acl.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <type_traits>

#include "auth/owner_map.h"

namespace recall {

namespace {

struct AclFree {
  void operator()(void* p) const { acl_free(p); }
};
using AclPtr = std::unique_ptr<std::remove_pointer_t<acl_t>, AclFree>;

bool unsupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

Result<std::vector<AclEntry>> entries_of(acl_t acl, const std::string& path) {
  std::vector<AclEntry> out;
  acl_entry_t e;
  int r = acl_get_entry(acl, ACL_FIRST_ENTRY, &e);
  for (; r == 1; r = acl_get_entry(acl, ACL_NEXT_ENTRY, &e)) {
    acl_tag_t tag;
    acl_permset_t ps;
    if (acl_get_tag_type(e, &tag) != 0 || acl_get_permset(e, &ps) != 0)
      return io_error("ACL of " + path, errno);
    AclEntry x;
    switch (tag) {
      case ACL_USER_OBJ: x.tag = AclEntry::Tag::UserObj; break;
      case ACL_USER: x.tag = AclEntry::Tag::User; break;
      case ACL_GROUP_OBJ: x.tag = AclEntry::Tag::GroupObj; break;
      case ACL_GROUP: x.tag = AclEntry::Tag::Group; break;
      case ACL_MASK: x.tag = AclEntry::Tag::Mask; break;
      case ACL_OTHER: x.tag = AclEntry::Tag::Other; break;
      default: return make_error(ErrorKind::Corrupt, "ACL of " + path + ": unknown entry tag");
    }
    if (tag == ACL_USER || tag == ACL_GROUP) {
      void* q = acl_get_qualifier(e);  // uid_t* or gid_t*, both 32-bit
      if (q == nullptr) return io_error("ACL of " + path, errno);
      x.id = *static_cast<std::uint32_t*>(q);
      acl_free(q);
      // Record the name it has here, so a restore on another host can map it by name.
      auto name = tag == ACL_USER ? lookup_user_name(x.id) : lookup_group_name(x.id);
      if (!name.ok()) return name.error();
      x.name = *name;
    }
    x.perm = static_cast<std::uint8_t>((acl_get_perm(ps, ACL_READ) == 1 ? 4 : 0) |
                                       (acl_get_perm(ps, ACL_WRITE) == 1 ? 2 : 0) |
                                       (acl_get_perm(ps, ACL_EXECUTE) == 1 ? 1 : 0));
    out.push_back(std::move(x));
  }
  if (r < 0) return io_error("ACL of " + path, errno);
  // The kernel already returns canonical order; sorting keeps FileMeta comparable regardless.
  std::stable_sort(out.begin(), out.end(), [](const AclEntry& a, const AclEntry& b) {
    return a.tag != b.tag ? a.tag < b.tag : a.id < b.id;
  });
  return out;
}

}  // namespace

Status read_acls(const char* path, bool is_dir, FileMeta& meta) {
  meta.acl.clear();
  meta.default_acl.clear();
  if (meta.type == FileType::Symlink) return {};
  AclPtr access(acl_get_file(path, ACL_TYPE_ACCESS));
  if (!access) {
    if (unsupported(errno)) return {};
    return io_error(std::string("reading the ACL of ") + path, errno);
  }
  // acl_equiv_mode: 0 when the mode bits say it all, 1 when the ACL is extended.
  if (acl_equiv_mode(access.get(), nullptr) == 1) {
    auto entries = entries_of(access.get(), path);
    if (!entries.ok()) return entries.error();
    meta.acl = std::move(*entries);
  }
  if (!is_dir) return {};
  AclPtr def(acl_get_file(path, ACL_TYPE_DEFAULT));
  if (!def) {
    if (unsupported(errno)) return {};
    return io_error(std::string("reading the default ACL of ") + path, errno);
  }
  auto entries = entries_of(def.get(), path);  // empty when the directory has none
  if (!entries.ok()) return entries.error();
  meta.default_acl = std::move(*entries);
  return {};
}

std::string acl_to_text(const std::vector<AclEntry>& acl) {
  std::string out;
  for (const auto& e : acl) {
    if (!out.empty()) out += ',';
    switch (e.tag) {
      case AclEntry::Tag::UserObj: out += "user::"; break;
      case AclEntry::Tag::User:
        out += "user:" + (e.name.empty() ? std::to_string(e.id) : e.name) + ':';
        break;
      case AclEntry::Tag::GroupObj: out += "group::"; break;
      case AclEntry::Tag::Group:
        out += "group:" + (e.name.empty() ? std::to_string(e.id) : e.name) + ':';
        break;
      case AclEntry::Tag::Mask: out += "mask::"; break;
      case AclEntry::Tag::Other: out += "other::"; break;
    }
    out += (e.perm & 4) ? 'r' : '-';
    out += (e.perm & 2) ? 'w' : '-';
    out += (e.perm & 1) ? 'x' : '-';
  }
  return out;
}

}  // namespace recall
