// The restic reader's pieces on their own: scrypt (RFC 7914's vector), the envelope (made here
// with OpenSSL the way restic makes it, then tampered with), zstd limits, Go-quoted names, Go
// file modes and hostile tree nodes. Real repositories made by restic are in tests/e2e/test_restic.py.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zstd.h>

#include "restic/blob.h"
#include "restic/crypto.h"
#include "restic/tree.h"

namespace recall::restic {
namespace {

std::string hex(std::span<const std::uint8_t> b) { return to_hex(b); }

Key test_key() {
  Key k;
  for (int i = 0; i < 32; ++i) k.encrypt[i] = static_cast<std::uint8_t>(i * 7 + 1);
  for (int i = 0; i < 16; ++i) k.mac_k[i] = static_cast<std::uint8_t>(i * 3 + 5);
  for (int i = 0; i < 16; ++i) k.mac_r[i] = static_cast<std::uint8_t>(i * 11 + 2);
  return k;
}

// An envelope as restic writes one: IV, AES-256-CTR ciphertext, Poly1305-AES tag over the ciphertext.
std::vector<std::uint8_t> seal(const Key& k, std::span<const std::uint8_t> plain) {
  std::vector<std::uint8_t> out(16 + plain.size() + 16);
  RAND_bytes(out.data(), 16);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  EVP_EncryptInit_ex2(c, EVP_aes_256_ctr(), k.encrypt.data(), out.data(), nullptr);
  if (!plain.empty()) EVP_EncryptUpdate(c, out.data() + 16, &n, plain.data(), static_cast<int>(plain.size()));
  EVP_CIPHER_CTX_free(c);
  std::uint8_t one_time[32];
  std::copy(k.mac_r.begin(), k.mac_r.end(), one_time);
  c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex2(c, EVP_aes_128_ecb(), k.mac_k.data(), nullptr, nullptr);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EVP_EncryptUpdate(c, one_time + 16, &n, out.data(), 16);
  EVP_CIPHER_CTX_free(c);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  EVP_MAC_CTX* m = EVP_MAC_CTX_new(mac);
  std::size_t len = 0;
  EVP_MAC_init(m, one_time, 32, nullptr);
  EVP_MAC_update(m, out.data() + 16, plain.size());
  EVP_MAC_final(m, out.data() + 16 + plain.size(), &len, 16);
  EVP_MAC_CTX_free(m);
  EVP_MAC_free(mac);
  return out;
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Scrypt, MatchesRfc7914Vector) {
  const std::string salt = "NaCl";
  auto k = derive_user_key("password", {reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()},
                           1024, 8, 16);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(hex(k->encrypt), "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
  EXPECT_EQ(hex(k->mac_k), "2eaf30d92e22a3886ff109279d9830da");
  EXPECT_EQ(hex(k->mac_r), "c727afb94a83ee6d8360cbdfa2cc0640");
}

TEST(Scrypt, RefusesParametersResticNeverWrites) {
  const std::uint8_t salt[64] = {};
  EXPECT_FALSE(derive_user_key("pw", salt, 1000, 8, 1).ok());      // not a power of two
  EXPECT_FALSE(derive_user_key("pw", salt, 1u << 30, 8, 1).ok());  // absurd memory
  EXPECT_FALSE(derive_user_key("pw", salt, 1024, 0, 1).ok());
}

TEST(Envelope, OpensWhatResticSeals) {
  const Key k = test_key();
  for (std::size_t size : {0u, 1u, 15u, 16u, 17u, 4096u, 100000u}) {
    std::vector<std::uint8_t> plain(size);
    for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 31);
    auto got = open_envelope(k, seal(k, plain));
    ASSERT_TRUE(got.ok()) << size << ": " << got.error().message;
    EXPECT_EQ(*got, plain) << size;
  }
}

TEST(Envelope, RefusesTamperingWrongKeysAndShortInput) {
  const Key k = test_key();
  auto env = seal(k, bytes("some plain text of a snapshot"));
  for (std::size_t at : {std::size_t{0}, std::size_t{16}, env.size() - 1}) {  // IV, ciphertext, tag
    auto bad = env;
    bad[at] ^= 1;
    auto r = open_envelope(k, bad);
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
  }
  Key other = k;
  other.mac_r[0] ^= 0x80;
  EXPECT_FALSE(open_envelope(other, env).ok());
  EXPECT_FALSE(open_envelope(k, std::span<const std::uint8_t>(env).first(31)).ok());
  std::vector<std::uint8_t> zero_iv = env;
  std::fill(zero_iv.begin(), zero_iv.begin() + 16, 0);
  EXPECT_NE(open_envelope(k, zero_iv).error().message.find("all-zero IV"), std::string::npos);
}

TEST(Key, RoundTripsThroughJsonAndRefusesWrongSizes) {
  const Key k = test_key();
  auto back = key_from_json(key_to_json(k));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->encrypt, k.encrypt);
  EXPECT_EQ(back->mac_k, k.mac_k);
  EXPECT_EQ(back->mac_r, k.mac_r);
  EXPECT_FALSE(key_from_json(R"({"mac":{"k":"AAAA","r":"AAAA"},"encrypt":"AAAA"})").ok());
  EXPECT_FALSE(key_from_json("not json").ok());
}

TEST(Blob, DecodesPlainAndZstdBlobsCheckedAgainstTheirId) {
  const Key k = test_key();
  const auto plain = bytes(std::string(100000, 'z') + "tail");
  const Digest id = sha256(plain);
  auto got = decode_blob(k, seal(k, plain), 0, id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, plain);
  std::vector<std::uint8_t> frame(ZSTD_compressBound(plain.size()));
  frame.resize(ZSTD_compress(frame.data(), frame.size(), plain.data(), plain.size(), 3));
  got = decode_blob(k, seal(k, frame), static_cast<std::uint32_t>(plain.size()), id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, plain);
  // The wrong length, the wrong ID: refused, never returned.
  EXPECT_FALSE(decode_blob(k, seal(k, frame), static_cast<std::uint32_t>(plain.size() - 1), id).ok());
  Digest other = id;
  other[0] ^= 1;
  EXPECT_FALSE(decode_blob(k, seal(k, plain), 0, other).ok());
}

TEST(Zstd, StopsAtItsLimitAndOnTruncatedFrames) {
  const std::vector<std::uint8_t> big(1 << 20, 0);
  std::vector<std::uint8_t> frame(ZSTD_compressBound(big.size()));
  frame.resize(ZSTD_compress(frame.data(), frame.size(), big.data(), big.size(), 3));
  EXPECT_TRUE(zstd_decompress(frame, big.size()).ok());
  EXPECT_FALSE(zstd_decompress(frame, big.size() - 1).ok());
  EXPECT_FALSE(
      zstd_decompress(std::span<const std::uint8_t>(frame).first(frame.size() - 3), big.size()).ok());
  EXPECT_FALSE(zstd_decompress(bytes("not a frame at all"), 100).ok());
}

TEST(Unpacked, ReadsV1AsIsAndV2ByItsFirstByte) {
  EXPECT_EQ(*unpacked_json(bytes(R"({"a":1})"), 1), R"({"a":1})");
  EXPECT_EQ(*unpacked_json(bytes(R"([1])"), 2), "[1]");
  const std::string json = R"({"packs":[]})";
  std::vector<std::uint8_t> z(ZSTD_compressBound(json.size()) + 1);
  z.resize(1 + ZSTD_compress(z.data() + 1, z.size() - 1, json.data(), json.size(), 3));
  z[0] = 0x02;
  EXPECT_EQ(*unpacked_json(z, 2), json);
  z[0] = 0x03;
  EXPECT_FALSE(unpacked_json(z, 2).ok());
}

TEST(GoUnquote, UndoesStrconvQuote) {
  EXPECT_EQ(*go_unquote("plain name.txt"), "plain name.txt");
  EXPECT_EQ(*go_unquote(R"(\xffname)"),
            "\xff"
            "name");
  EXPECT_EQ(*go_unquote(R"(tab\there\nnl \"q\" back\\slash)"), "tab\there\nnl \"q\" back\\slash");
  EXPECT_EQ(*go_unquote(R"(\u00a0nbsp \U0001F600)"), "\xc2\xa0nbsp \xf0\x9f\x98\x80");
  EXPECT_EQ(*go_unquote(R"(\101\000)"), std::string("A\0", 2));
  EXPECT_EQ(*go_unquote("caf\xc3\xa9"), "caf\xc3\xa9");  // printable UTF-8 stays as is
  for (const char* bad : {R"(\x4)", R"(\xzz)", R"(\)", R"(\q)", R"(\uD800)", R"(\U00110000)", R"(\400)"})
    EXPECT_FALSE(go_unquote(bad)) << bad;
}

TEST(GoMode, KeepsPermissionsAndSpecialBits) {
  EXPECT_EQ(posix_mode(2147484141ull), 0755u);  // a 0755 directory as real repositories store it
  EXPECT_EQ(posix_mode(134218239ull), 0777u);   // a symlink
  EXPECT_EQ(posix_mode((1ull << 23) | 0755), 04755u);
  EXPECT_EQ(posix_mode((1ull << 22) | 0750), 02750u);
  EXPECT_EQ(posix_mode((1ull << 20) | (1ull << 31) | 0777), 01777u);
}

std::string tree_with(const std::string& node) { return R"({"nodes":[)" + node + "]}"; }

TEST(Tree, ParsesARealLookingDirectory) {
  const std::string id = std::string(64, 'a');
  auto nodes = parse_tree(R"({"nodes":[
    {"name":"\\xffname","type":"file","mode":420,"mtime":"2024-05-01T10:00:00.123456789+02:00","uid":1000,
     "gid":100,"user":"alice","inode":7,"links":2,"size":5,"content":[")" +
                          id + R"("],
     "extended_attributes":[{"name":"user.note","value":"a2VwdA=="}]},
    {"name":"sub","type":"dir","mode":2147484141,"subtree":")" +
                          id + R"("},
    {"name":"l","type":"symlink","mode":134218239,"linktarget_raw":"/w=="},
    {"name":"empty","type":"file","content":[]}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 4u);
  const Node& f = (*nodes)[0];
  EXPECT_EQ(f.name,
            "\xff"
            "name");
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(f.mtime_ns, 1714550400123456789ll);
  EXPECT_EQ(f.user, "alice");
  EXPECT_EQ(f.links, 2u);
  ASSERT_EQ(f.content.size(), 1u);
  ASSERT_EQ(f.xattrs.size(), 1u);
  EXPECT_EQ(f.xattrs[0].second, "kept");
  EXPECT_EQ((*nodes)[1].type, FileType::Directory);
  EXPECT_TRUE((*nodes)[1].subtree.has_value());
  EXPECT_EQ((*nodes)[2].link_target, "\xff");
  EXPECT_TRUE((*nodes)[3].content.empty());
}

TEST(Tree, RefusesHostileNodes) {
  const std::string id = std::string(64, 'b');
  const std::vector<std::string> hostile = {
      R"({"name":"..","type":"file"})",
      R"({"name":".","type":"dir","subtree":")" + id + R"("})",
      R"({"name":"a/b","type":"file"})",
      R"({"name":"nul\\x00byte","type":"file"})",
      R"({"name":"","type":"file"})",
      R"({"name":")" + std::string(256, 'n') + R"(","type":"file"})",
      R"({"name":"x","type":"weird"})",
      R"({"name":"d","type":"dir"})",
      R"({"name":"f","type":"file","content":["not-hex"]})",
      R"({"name":"f","type":"file","size":-5})",
      R"({"name":"f","type":"file","mtime":"yesterday"})",
      R"({"name":"f","type":"file","mtime":"3978-05-05T10:00:00Z"})",  // fuzz_restic_tree: ns overflow
      R"({"name":"f","type":"file","uid":99999999999})",
      R"("just a string")",
  };
  for (const auto& n : hostile) {
    auto r = parse_tree(tree_with(n));
    EXPECT_FALSE(r.ok()) << n;
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::Corrupt) << n;
    }
  }
  EXPECT_FALSE(parse_tree("{not json").ok());
  EXPECT_FALSE(parse_tree(R"({"nodes":{}})").ok());
  EXPECT_TRUE(parse_tree(R"({"nodes":null})").ok());
}

}  // namespace
}  // namespace recall::restic
