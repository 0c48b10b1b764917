#include "auth/identity.h"

#include <grp.h>

#include <algorithm>

#include "auth/owner_map.h"

namespace recall {

bool Identity::in_group(std::uint32_t g) const { return std::binary_search(groups.begin(), groups.end(), g); }

namespace {

// getgrouplist reports the needed size when the array is too small; loop because the
// group database may grow between calls.
std::vector<std::uint32_t> groups_of(const std::string& user, gid_t gid) {
  std::vector<gid_t> gids(32);
  for (;;) {
    int n = static_cast<int>(gids.size());
    if (getgrouplist(user.c_str(), gid, gids.data(), &n) >= 0) {
      gids.resize(static_cast<std::size_t>(n));
      break;
    }
    gids.resize(static_cast<std::size_t>(std::max(n, static_cast<int>(gids.size()) * 2)));
  }
  std::vector<std::uint32_t> out(gids.begin(), gids.end());
  out.push_back(gid);  // getgrouplist includes it, but be explicit: the kernel always has it
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Result<Identity> identity_for(uid_t uid, gid_t gid, const std::string& admin_group) {
  Identity id;
  id.uid = uid;
  id.gid = gid;
  auto name = lookup_user_name(uid);
  if (!name.ok()) return name.error();
  id.user = *name;
  id.groups = id.user.empty() ? std::vector<std::uint32_t>{gid} : groups_of(id.user, gid);
  id.admin = id.is_root();
  if (!id.admin && !admin_group.empty()) {
    auto admin_gid = lookup_gid(admin_group);
    if (!admin_gid.ok()) return admin_gid.error();
    id.admin = admin_gid->has_value() && id.in_group(**admin_gid);
  }
  return id;
}

}  // namespace recall
