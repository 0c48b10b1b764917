#include "restic/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace recall::restic {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

Error crypto_error(const char* what) {
  return make_error(ErrorKind::Internal, std::string("OpenSSL: ") + what + " failed");
}

// Poly1305-AES as restic (Go's poly1305 over AES-128(k, IV)) computes it, over the ciphertext only.
Result<std::array<std::uint8_t, 16>> mac(const Key& key, std::span<const std::uint8_t> iv,
                                         std::span<const std::uint8_t> ct) {
  std::array<std::uint8_t, 32> one_time{};
  std::copy(key.mac_r.begin(), key.mac_r.end(), one_time.begin());
  {
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> c(EVP_CIPHER_CTX_new());
    int n = 0;
    if (!c || EVP_EncryptInit_ex2(c.get(), EVP_aes_128_ecb(), key.mac_k.data(), nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(c.get(), 0) != 1 ||
        EVP_EncryptUpdate(c.get(), one_time.data() + 16, &n, iv.data(), 16) != 1 || n != 16)
      return crypto_error("AES-128-ECB");
  }
  // One fetch for the process: the provider lookup costs more than a small blob's MAC.
  static EVP_MAC* poly = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  if (!poly) return crypto_error("POLY1305 fetch");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> m(EVP_MAC_CTX_new(poly));
  std::array<std::uint8_t, 16> tag{};
  std::size_t out = 0;
  if (!m || EVP_MAC_init(m.get(), one_time.data(), one_time.size(), nullptr) != 1 ||
      (!ct.empty() && EVP_MAC_update(m.get(), ct.data(), ct.size()) != 1) ||
      EVP_MAC_final(m.get(), tag.data(), &out, tag.size()) != 1 || out != 16)
    return crypto_error("Poly1305");
  OPENSSL_cleanse(one_time.data(), one_time.size());
  return tag;
}

std::optional<std::vector<std::uint8_t>> b64_bytes(const nlohmann::json& j, std::size_t size) {
  if (!j.is_string()) return std::nullopt;
  auto d = base64_decode(j.get<std::string>());
  if (!d || d->size() != size) return std::nullopt;
  return std::vector<std::uint8_t>(d->begin(), d->end());
}

}  // namespace

Result<std::vector<std::uint8_t>> open_envelope(const Key& key, std::span<const std::uint8_t> env) {
  if (env.size() < kEnvelopeOverhead)
    return make_error(ErrorKind::Corrupt, "encrypted object of " + std::to_string(env.size()) +
                                              " bytes is shorter than its IV and tag");
  const auto iv = env.first(16);
  const auto ct = env.subspan(16, env.size() - kEnvelopeOverhead);
  const auto tag = env.last(16);
  if (std::all_of(iv.begin(), iv.end(), [](std::uint8_t b) { return b == 0; }))
    return make_error(ErrorKind::Corrupt, "encrypted object has an all-zero IV");
  auto want = mac(key, iv, ct);
  if (!want.ok()) return want.error();
  if (CRYPTO_memcmp(want->data(), tag.data(), 16) != 0)
    return make_error(ErrorKind::Corrupt, "authentication failed (wrong key or damaged data)");
  std::vector<std::uint8_t> plain(ct.size());
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> c(EVP_CIPHER_CTX_new());
  int n = 0, fin = 0;
  if (!c || EVP_DecryptInit_ex2(c.get(), EVP_aes_256_ctr(), key.encrypt.data(), iv.data(), nullptr) != 1 ||
      (!ct.empty() &&
       EVP_DecryptUpdate(c.get(), plain.data(), &n, ct.data(), static_cast<int>(ct.size())) != 1) ||
      EVP_DecryptFinal_ex(c.get(), plain.data() + n, &fin) != 1 ||
      static_cast<std::size_t>(n + fin) != ct.size())
    return crypto_error("AES-256-CTR");
  return plain;
}

Result<Key> derive_user_key(std::string_view password, std::span<const std::uint8_t> salt, std::uint64_t n,
                            std::uint32_t r, std::uint32_t p) {
  if (n < 2 || n > (1u << 24) || (n & (n - 1)) != 0 || r == 0 || p == 0 ||
      static_cast<std::uint64_t>(r) * p >= (1u << 30))
    return make_error(ErrorKind::Invalid, "scrypt parameters N=" + std::to_string(n) +
                                              " r=" + std::to_string(r) + " p=" + std::to_string(p) +
                                              " are outside what restic writes");
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
  if (!kdf) return crypto_error("SCRYPT fetch");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return crypto_error("SCRYPT context");
  std::uint64_t maxmem = 128ull * n * r * p + 128ull * r * p + (64ull << 20);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()), password.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size()),
                         OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
                         OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
                         OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
                         OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
                         OSSL_PARAM_construct_end()};
  std::array<std::uint8_t, 64> dk{};
  if (EVP_KDF_derive(ctx.get(), dk.data(), dk.size(), params) != 1) return crypto_error("scrypt");
  Key k;
  std::copy_n(dk.begin(), 32, k.encrypt.begin());
  std::copy_n(dk.begin() + 32, 16, k.mac_k.begin());
  std::copy_n(dk.begin() + 48, 16, k.mac_r.begin());
  OPENSSL_cleanse(dk.data(), dk.size());
  return k;
}

Result<Key> key_from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("mac") || !j["mac"].is_object())
    return make_error(ErrorKind::Corrupt, "master key is not a JSON object with 'mac' and 'encrypt'");
  auto enc = b64_bytes(j.value("encrypt", nlohmann::json()), 32);
  auto k = b64_bytes(j["mac"].value("k", nlohmann::json()), 16);
  auto r = b64_bytes(j["mac"].value("r", nlohmann::json()), 16);
  if (!enc || !k || !r) return make_error(ErrorKind::Corrupt, "master key has a field of the wrong size");
  Key key;
  std::copy(enc->begin(), enc->end(), key.encrypt.begin());
  std::copy(k->begin(), k->end(), key.mac_k.begin());
  std::copy(r->begin(), r->end(), key.mac_r.begin());
  return key;
}

std::string key_to_json(const Key& key) {
  auto s = [](const auto& a) { return base64_encode({reinterpret_cast<const char*>(a.data()), a.size()}); };
  return nlohmann::json{{"mac", {{"k", s(key.mac_k)}, {"r", s(key.mac_r)}}}, {"encrypt", s(key.encrypt)}}
      .dump();
}

}  // namespace recall::restic
