// restic's unpacked files and compressed blobs after decryption (restic/blob.h) and master keys
// (restic/crypto.h): zstd frames that lie about their size, truncated frames, bad JSON.
#include <cstdlib>
#include <vector>

#include "restic/blob.h"
#include "restic/crypto.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  (void)recall::restic::unpacked_json(bytes, 2);
  auto d = recall::restic::zstd_decompress(bytes, 1 << 20);
  if (d.ok() && d->size() > (1 << 20)) std::abort();
  (void)recall::restic::key_from_json({reinterpret_cast<const char*>(data), size});
  return 0;
}
