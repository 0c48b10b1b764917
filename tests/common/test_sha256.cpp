#include "common/sha256.h"

#include <gtest/gtest.h>

using namespace recall;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, StreamingEqualsOneShot) {
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish(), sha256("abc"));
  Digest d;
  ASSERT_TRUE(digest_from_hex(to_hex(sha256("abc")), d));
  EXPECT_EQ(d, sha256("abc"));
  EXPECT_FALSE(digest_from_hex("xyz", d));
}
