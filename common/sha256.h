// SHA-256 via OpenSSL 3 (uses the CPU's SHA extensions where present).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace recall {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::span<const std::uint8_t> data);
inline Digest sha256(std::string_view s) {
  return sha256({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

// Incremental hashing for streams (whole-file content hashes).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view s) { update({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}); }
  Digest finish();  // resets the state for reuse

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string to_hex(std::span<const std::uint8_t> bytes);
// Returns false if `hex` is not exactly 64 hex digits.
bool digest_from_hex(std::string_view hex, Digest& out);

}  // namespace recall
