// restic tree blobs and Go-quoted names (restic/tree.h): accepted nodes have names that are
// single path components.
#include <cstdlib>

#include "restic/tree.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)recall::restic::go_unquote(text);
  auto r = recall::restic::parse_tree(text);
  if (!r.ok()) return 0;
  for (const auto& n : *r) {
    if (n.name.empty() || n.name == "." || n.name == ".." || n.name.find('/') != std::string::npos ||
        n.name.find('\0') != std::string::npos || n.name.size() > 255)
      std::abort();
    if (n.type == recall::FileType::Directory && !n.subtree) std::abort();
  }
  return 0;
}
