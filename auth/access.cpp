#include "auth/access.h"

namespace recall {

namespace {

bool grants(std::uint32_t perm, int want) {
  return (perm & static_cast<std::uint32_t>(want)) == static_cast<std::uint32_t>(want);
}

// fs/posix_acl.c posix_acl_permission for a caller who is not the owner (checked before).
bool acl_permits(const Identity& who, const FileMeta& meta, int want, OwnerMap& owners) {
  const AclEntry* mask = nullptr;
  const AclEntry* other = nullptr;
  for (const auto& e : meta.acl) {
    if (e.tag == AclEntry::Tag::Mask) mask = &e;
    if (e.tag == AclEntry::Tag::Other) other = &e;
  }
  // Without a mask entry (not a valid extended ACL, but be defined) nothing is masked.
  const std::uint32_t mask_perm = mask ? mask->perm : 7u;

  // A named user entry decides alone, masked. The kernel takes the first one in ACL order.
  for (const auto& e : meta.acl) {
    if (e.tag == AclEntry::Tag::User && owners.local_uid(e.id, e.name) == who.uid) {
      return grants(e.perm & mask_perm, want);
    }
  }
  // Group class: any matching entry that grants (after the mask) allows; matching entries
  // that all fall short deny, even if OTHER would grant.
  bool matched = false;
  for (const auto& e : meta.acl) {
    bool match = false;
    if (e.tag == AclEntry::Tag::GroupObj) match = who.in_group(owners.local_gid(meta.gid, meta.group));
    if (e.tag == AclEntry::Tag::Group) match = who.in_group(owners.local_gid(e.id, e.name));
    if (!match) continue;
    if (grants(e.perm & mask_perm, want)) return true;
    matched = true;
  }
  if (matched) return false;
  // An ACL without OTHER is invalid; the kernel answers EIO, we deny.
  return other != nullptr && grants(other->perm, want);
}

}  // namespace

bool permits(const Identity& who, const FileMeta& meta, int want, OwnerMap& owners) {
  want &= kRead | kWrite | kExec;
  if (who.is_root()) {
    // generic_permission: read/write always overridable, directories always searchable,
    // exec of anything else only when some x bit is set.
    return is_dir(meta) || !(want & kExec) || (meta.mode & 0111) != 0;
  }
  // The owner class is decided by the mode's owner bits alone, ACL or not.
  if (owners.local_uid(meta.uid, meta.user) == who.uid) return grants((meta.mode >> 6) & 7, want);
  // The kernel consults the ACL only when the group-class bits (= the mask) are not all zero.
  if (!meta.acl.empty() && (meta.mode & 070) != 0) return acl_permits(who, meta, want, owners);
  if (who.in_group(owners.local_gid(meta.gid, meta.group))) return grants((meta.mode >> 3) & 7, want);
  return grants(meta.mode & 7, want);
}

bool may_access_path(const Identity& who, std::span<const FileMeta* const> ancestors, const FileMeta& target,
                     int want, OwnerMap& owners) {
  for (const FileMeta* dir : ancestors) {
    if (!is_dir(*dir) || !permits(who, *dir, kExec, owners)) return false;
  }
  return permits(who, target, want, owners);
}

}  // namespace recall
