// restic's cryptography (formats.md §1.2, §1.3): the 64-byte key (AES-256 for encryption,
// Poly1305-AES for authentication), the envelope IV || ciphertext || tag every encrypted object
// is stored in, and the scrypt derivation of a key file's user key from the password.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace recall::restic {

inline constexpr std::size_t kEnvelopeOverhead = 32;  // IV(16) + tag(16)

struct Key {
  std::array<std::uint8_t, 32> encrypt{};
  std::array<std::uint8_t, 16> mac_k{};  // AES-128 key that makes Poly1305's one-time `s`
  std::array<std::uint8_t, 16> mac_r{};  // Poly1305 `r` (clamped by OpenSSL)
};

// Authenticates, then decrypts one envelope. Corrupt when it is shorter than 32 bytes, its IV
// is all zero or its tag does not match (wrong key, or damaged bytes).
Result<std::vector<std::uint8_t>> open_envelope(const Key& key, std::span<const std::uint8_t> envelope);

// The user key of a key file: scrypt(password, salt, N, r, p) split into encrypt, mac_k, mac_r.
// Invalid for parameters outside what restic writes (N a power of two up to 2^24, r*p < 2^30).
Result<Key> derive_user_key(std::string_view password, std::span<const std::uint8_t> salt, std::uint64_t n,
                            std::uint32_t r, std::uint32_t p);

// The master key as restic stores it inside a key file (and Recall in its home):
// {"mac":{"k":B64,"r":B64},"encrypt":B64}.
Result<Key> key_from_json(std::string_view json);
std::string key_to_json(const Key& key);

}  // namespace recall::restic
