// The one access rule of Recall: a caller may see a recorded file exactly when the host's own
// rule at that point in time, applied to the caller's identity today, would let them.
//
// "The host's own rule" is Linux's permission check (fs/namei.c acl_permission_check and
// fs/posix_acl.c posix_acl_permission), applied to the mode bits, owner, group and POSIX ACL
// recorded in FileMeta. "The caller's identity today" is Identity (uid and group memberships
// now), with recorded owners mapped to local ids by OwnerMap. Path resolution needs search (x)
// on every ancestor directory, as in the kernel. tests/auth/test_kernel_matrix.cpp checks
// this against the real kernel with real users.
//
// Every front end (FUSE, GUI, CLI, HTTP) asks here; none decides on its own.
#pragma once

#include <span>

#include "auth/identity.h"
#include "auth/owner_map.h"
#include "common/file_meta.h"

namespace recall {

enum Perm : int { kRead = 4, kWrite = 2, kExec = 1 };

// May `who` have all bits of `want` (a combination of Perm) on `meta`?
//  - root (uid 0) is the kernel's CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: always allowed, except
//    exec of a non-directory that has no x bit at all in its mode;
//  - without an ACL: the owner class, else the group class, else the other class of the mode;
//  - with an ACL, acl(5): owner -> USER_OBJ; named USER entry -> entry & MASK; member of the
//    owning group or of a named group -> allowed if any matching group-class entry (masked)
//    grants all of `want`, denied if some matched but none grants; else OTHER.
//    Kernel quirk kept on purpose: when the group-class mode bits (the mask) are all zero
//    the kernel skips the ACL and uses plain mode bits, so a named user then falls to OTHER.
bool permits(const Identity& who, const FileMeta& meta, int want, OwnerMap& owners);

// permits(want) on `target` and search (x) on every directory of `ancestors` (the root
// directory first, the target's parent last, the target itself excluded). A non-directory
// ancestor denies, as ENOTDIR would.
bool may_access_path(const Identity& who, std::span<const FileMeta* const> ancestors, const FileMeta& target,
                     int want, OwnerMap& owners);

}  // namespace recall
