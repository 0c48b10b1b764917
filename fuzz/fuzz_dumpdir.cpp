// GNU tar dumpdirs (importers/dumpdir.h): any bytes give entries or an error, never a crash, and
// no accepted Y/N/D name can leave its directory.
#include <cstdlib>

#include "importers/dumpdir.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = recall::import::parse_dumpdir({reinterpret_cast<const char*>(data), size});
  if (!r.ok()) return 0;
  for (const auto& e : *r)
    if ((e.code == 'Y' || e.code == 'N' || e.code == 'D') &&
        (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos))
      std::abort();
  return 0;
}
