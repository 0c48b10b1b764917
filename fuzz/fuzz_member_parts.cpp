// Member names from archives (importers/tree_image.h member_parts): whatever is accepted is a
// list of components that stays below the root.
#include <cstdlib>

#include "importers/tree_image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bool absolute = false;
  auto r = recall::import::member_parts({reinterpret_cast<const char*>(data), size}, &absolute);
  if (!r.ok()) return 0;
  std::size_t total = 0;
  for (const auto& p : *r) {
    if (p.empty() || p == "." || p == ".." || p.find('/') != std::string::npos || p.size() > 255)
      std::abort();
    total += p.size() + 1;
  }
  if (total > 4097) std::abort();
  return 0;
}
