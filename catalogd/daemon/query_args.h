// Reading the parameters of an API request's query string, with errors that name them.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"

namespace recall::daemon {

using Query = std::map<std::string, std::string>;

inline std::string arg(const Query& q, const char* name, std::string def = {}) {
  auto it = q.find(name);
  return it == q.end() ? def : it->second;
}

inline Result<std::string> need(const Query& q, const char* name) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty())
    return make_error(ErrorKind::Invalid, std::string("missing parameter '") + name + "'");
  return it->second;
}

// An unsigned number, `def` when absent, clamped to `max`.
inline Result<std::uint64_t> number(const Query& q, const char* name, std::uint64_t def, std::uint64_t max) {
  auto it = q.find(name);
  if (it == q.end()) return def;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || p != it->second.data() + it->second.size())
    return make_error(ErrorKind::Invalid, std::string("parameter '") + name + "' must be a number");
  return std::min(v, max);
}

}  // namespace recall::daemon
