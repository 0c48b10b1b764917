// The pax header walk that finds GNU.dumpdir (importers/pax_dumpdirs.h): any bytes give dump
// lists or an error, never a crash; every list is found at a header boundary inside the input.
#include <cstdlib>

#include "importers/pax_dumpdirs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = recall::import::read_pax_dumpdirs_from({reinterpret_cast<const char*>(data), size}, "fuzz.tar");
  if (!r.ok()) return 0;
  for (const auto& [offset, list] : *r)
    if (offset % 512 != 0 || offset >= size) std::abort();
  return 0;
}
