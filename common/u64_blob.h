// Lists of u64 as little-endian bytes: how the catalog stores a tape block's continuation records
// (locations.span), and how the tape format hands them to it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace recall {

std::vector<std::uint8_t> encode_u64_blob(const std::vector<std::uint64_t>& values);
// Corrupt when the length is not a multiple of 8.
Result<std::vector<std::uint64_t>> decode_u64_blob(std::span<const std::uint8_t> blob);

}  // namespace recall
