// Maps an owner recorded on a host (the id plus the name it had there) to today's local id,
// and wraps the name-service look-ups (files, LDAP, sssd ...) the rest of auth/ needs.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/result.h"

namespace recall {

// An id nobody has ((uid_t)-1 is never a valid owner): what OwnerMap answers when the name
// service fails, so an outage denies access instead of handing a file to whoever owns the
// recorded number locally.
inline constexpr std::uint32_t kNoId = 0xFFFFFFFFu;

// Name-service look-ups. "No such name/id" is an empty optional (or ""); a failure of the name
// service itself is an Error, so callers never mistake an outage for "no such user".
Result<std::optional<std::uint32_t>> lookup_uid(const std::string& user);
Result<std::optional<std::uint32_t>> lookup_gid(const std::string& group);
Result<std::string> lookup_user_name(std::uint32_t uid);   // "" if the uid has no name
Result<std::string> lookup_group_name(std::uint32_t gid);  // "" if the gid has no name

// Recorded owner -> local id: by the recorded name when it is non-empty and exists here
// (accounts keep their names across hosts more reliably than their numbers), else the
// recorded id. Thread-safe; search calls it once per file, so name look-ups are cached.
class OwnerMap {
 public:
  using Lookup = std::function<Result<std::optional<std::uint32_t>>(const std::string&)>;

  OwnerMap();                             // uses lookup_uid / lookup_gid
  OwnerMap(Lookup users, Lookup groups);  // tests inject their own name service

  std::uint32_t local_uid(std::uint32_t recorded_uid, const std::string& name);
  std::uint32_t local_gid(std::uint32_t recorded_gid, const std::string& name);
  // Forgets every cached answer, e.g. after accounts were added or renamed.
  void clear();

 private:
  using Cache = std::unordered_map<std::string, std::optional<std::uint32_t>>;
  std::uint32_t resolve(const Lookup& lookup, Cache& cache, std::uint32_t recorded, const std::string& name);

  Lookup users_;
  Lookup groups_;
  // Guards both caches. Never held during a look-up: a slow LDAP server must not serialise
  // every search thread (two threads may look up the same name; both get the same answer).
  std::mutex mu_;
  // name -> local id, or nullopt for "no such name here". Failures are not cached. Bounded by
  // the number of distinct owner names in the catalog, which is small.
  Cache users_cache_;
  Cache groups_cache_;
};

// The process-wide map every front end shares, so its cache is built once.
OwnerMap& default_owner_map();

}  // namespace recall
