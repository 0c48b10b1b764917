// Fixed-width header fields shared by the volume format and the tape record format (internal to
// tapebridge/): explicit little-endian integers, so neither format depends on the host, and the
// space-padded 8-byte volser.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace recall::tape {

inline constexpr std::size_t kVolserField = 8;

inline void put_le(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

inline void put_volser(std::uint8_t* p, std::string_view volser) {
  std::memset(p, ' ', kVolserField);
  std::memcpy(p, volser.data(), std::min(volser.size(), kVolserField));
}

// Strict: 1-8 printable non-space characters, then only spaces. Anything else is garbage.
inline bool get_volser(const std::uint8_t* p, std::string& out) {
  std::size_t n = 0;
  while (n < kVolserField && p[n] > 0x20 && p[n] < 0x7f) ++n;
  if (n == 0) return false;
  for (std::size_t i = n; i < kVolserField; ++i) {
    if (p[i] != ' ') return false;
  }
  out.assign(reinterpret_cast<const char*>(p), n);
  return true;
}

inline bool all_zero(const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace recall::tape
