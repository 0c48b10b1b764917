#include "auth/owner_map.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <vector>

namespace recall {

namespace {

// Runs one getpw*_r / getgr*_r call. They need a caller buffer whose right size only the name
// service knows: start at 16 KiB and double on ERANGE. `call` copies what it needs out of the
// record before returning, since the record points into the buffer.
// glibc answers "not found" with 0 and a null result; other libcs use ENOENT or ESRCH.
template <class Rec, class Fn>
Status nss_call(Fn&& call, const std::string& what) {
  std::vector<char> buf(16384);
  for (;;) {
    Rec rec{};
    Rec* found = nullptr;
    int rc = call(&rec, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 24)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == 0 || rc == ENOENT || rc == ESRCH) return {};
    return io_error("name service look-up of " + what, rc);
  }
}

}  // namespace

Result<std::optional<std::uint32_t>> lookup_uid(const std::string& user) {
  std::optional<std::uint32_t> out;
  RECALL_TRY(nss_call<passwd>(
      [&](passwd* p, char* b, size_t n, passwd** f) {
        int rc = getpwnam_r(user.c_str(), p, b, n, f);
        if (rc == 0 && *f != nullptr) out = p->pw_uid;
        return rc;
      },
      "user '" + user + "'"));
  return out;
}

Result<std::optional<std::uint32_t>> lookup_gid(const std::string& group) {
  std::optional<std::uint32_t> out;
  RECALL_TRY(nss_call<struct group>(
      [&](struct group* g, char* b, size_t n, struct group** f) {
        int rc = getgrnam_r(group.c_str(), g, b, n, f);
        if (rc == 0 && *f != nullptr) out = g->gr_gid;
        return rc;
      },
      "group '" + group + "'"));
  return out;
}

Result<std::string> lookup_user_name(std::uint32_t uid) {
  std::string out;
  RECALL_TRY(nss_call<passwd>(
      [&](passwd* p, char* b, size_t n, passwd** f) {
        int rc = getpwuid_r(uid, p, b, n, f);
        if (rc == 0 && *f != nullptr) out = p->pw_name;
        return rc;
      },
      "uid " + std::to_string(uid)));
  return out;
}

Result<std::string> lookup_group_name(std::uint32_t gid) {
  std::string out;
  RECALL_TRY(nss_call<struct group>(
      [&](struct group* g, char* b, size_t n, struct group** f) {
        int rc = getgrgid_r(gid, g, b, n, f);
        if (rc == 0 && *f != nullptr) out = g->gr_name;
        return rc;
      },
      "gid " + std::to_string(gid)));
  return out;
}

OwnerMap::OwnerMap() : OwnerMap(lookup_uid, lookup_gid) {}

OwnerMap::OwnerMap(Lookup users, Lookup groups) : users_(std::move(users)), groups_(std::move(groups)) {}

std::uint32_t OwnerMap::local_uid(std::uint32_t recorded_uid, const std::string& name) {
  return resolve(users_, users_cache_, recorded_uid, name);
}

std::uint32_t OwnerMap::local_gid(std::uint32_t recorded_gid, const std::string& name) {
  return resolve(groups_, groups_cache_, recorded_gid, name);
}

void OwnerMap::clear() {
  std::lock_guard lock(mu_);
  users_cache_.clear();
  groups_cache_.clear();
}

std::uint32_t OwnerMap::resolve(const Lookup& lookup, Cache& cache, std::uint32_t recorded,
                                const std::string& name) {
  if (name.empty()) return recorded;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache.find(name); it != cache.end()) return it->second.value_or(recorded);
  }
  auto found = lookup(name);
  if (!found.ok()) return kNoId;  // fail closed, and ask again next time
  {
    std::lock_guard lock(mu_);
    cache.emplace(name, *found);
  }
  return found->value_or(recorded);
}

OwnerMap& default_owner_map() {
  static OwnerMap map;  // thread-safe initialisation (C++11 magic statics)
  return map;
}

}  // namespace recall
