#include "cli/context.h"

#include <cstdlib>

#include "catalogd/http/url.h"

namespace recall::cli {

std::string target(const std::string& path,
                   std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string t = path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    t += sep;
    t += k;
    t += '=';
    t += url_encode(v);
    sep = '&';
  }
  return t;
}

std::string default_socket() { return default_socket_path(); }

}  // namespace recall::cli
