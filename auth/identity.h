// Who is asking: a local Unix user as the kernel would see them if they logged in now
// (their uid, primary gid and every group they belong to today).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace recall {

struct Identity {
  // Defaults are an id nobody has, so a forgotten field never turns a caller into root.
  std::uint32_t uid = 0xFFFFFFFFu;
  std::uint32_t gid = 0xFFFFFFFFu;
  std::vector<std::uint32_t> groups;  // every gid incl. the primary one, sorted, no duplicates
  std::string user;                   // local name, "" if the uid has none
  bool admin = false;                 // uid 0 or member of the configured admin group

  bool is_root() const { return uid == 0; }
  bool in_group(std::uint32_t g) const;
};

// Builds the identity of a caller known by uid/gid (socket peer credentials, FUSE request).
// Groups come from the group database now (getgrouplist), not from the caller's process: a
// user removed from a group loses that access at once. An unknown uid gets user "" and
// groups {gid}. admin_group may be "" or name a group that does not exist (then only root is
// admin). Fails only when the name service itself fails.
Result<Identity> identity_for(uid_t uid, gid_t gid, const std::string& admin_group);

}  // namespace recall
