#include "common/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace recall {
namespace {

// Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up (under a lock) at every
// initialisation, which costs more than hashing a small chunk.
const EVP_MD* sha256_md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!m) throw std::runtime_error("OpenSSL has no SHA-256");
    return m;
  }();
  return md;
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex2(impl_->ctx, sha256_md(), nullptr) != 1)
    throw std::runtime_error("OpenSSL SHA-256 initialisation failed");
}
Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::uint8_t> data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

Digest Sha256::finish() {
  Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
  EVP_DigestInit_ex2(impl_->ctx, sha256_md(), nullptr);
  return d;
}

Digest sha256(std::span<const std::uint8_t> data) {
  thread_local Sha256 one_shot;
  one_shot.update(data);
  return one_shot.finish();
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static const char* k = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = k[bytes[i] >> 4];
    out[2 * i + 1] = k[bytes[i] & 15];
  }
  return out;
}

bool digest_from_hex(std::string_view hex, Digest& out) {
  if (hex.size() != 64) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace recall
