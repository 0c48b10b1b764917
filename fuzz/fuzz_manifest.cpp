// Recall manifests (importers/manifest.h): the input is split into lines and fed to the builder
// as the importer does; any line gives a set, an entry or an error naming the line.
#include <string_view>

#include "importers/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  recall::import::ManifestBuilder b;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (!b.add_line(text.substr(0, nl)).ok()) return 0;
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  (void)b.finish();
  return 0;
}
