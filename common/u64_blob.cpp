#include "common/u64_blob.h"

#include <string>

namespace recall {

std::vector<std::uint8_t> encode_u64_blob(const std::vector<std::uint64_t>& values) {
  std::vector<std::uint8_t> out(values.size() * 8);
  for (std::size_t i = 0; i < values.size(); ++i)
    for (int k = 0; k < 8; ++k) out[8 * i + k] = static_cast<std::uint8_t>(values[i] >> (8 * k));
  return out;
}

Result<std::vector<std::uint64_t>> decode_u64_blob(std::span<const std::uint8_t> blob) {
  if (blob.size() % 8 != 0)
    return make_error(ErrorKind::Corrupt,
                      "a list of 64-bit numbers of " + std::to_string(blob.size()) + " bytes");
  std::vector<std::uint64_t> out(blob.size() / 8);
  for (std::size_t i = 0; i < out.size(); ++i)
    for (int k = 0; k < 8; ++k) out[i] |= static_cast<std::uint64_t>(blob[8 * i + k]) << (8 * k);
  return out;
}

}  // namespace recall
