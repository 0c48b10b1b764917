#include <gtest/gtest.h>

#include <random>

#include "catalogd/http/client_transport.h"
#include "catalogd/http/url.h"

namespace recall {
namespace {

TEST(UrlEncode, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("/a b%&=+?#"), "%2Fa%20b%25%26%3D%2B%3F%23");
  EXPECT_EQ(url_encode(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(ClientTransport::url_encode("a/b"), "a%2Fb");
}

TEST(UrlEncode, EveryByteRoundTripsThroughParseQuery) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string path;
  auto params = parse_query("/v1/ls?path=" + url_encode(all) + "&" + url_encode(all) + "=x", path);
  EXPECT_EQ(path, "/v1/ls");
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params["path"], all);
  EXPECT_EQ(params[all], "x");
  EXPECT_EQ(url_decode(url_encode(all), true), all);
}

TEST(UrlEncode, RandomByteStringsRoundTrip) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
  for (int i = 0; i < 2000; ++i) {
    std::string key, value;
    for (int n = len(rng); n > 0; --n) key.push_back(static_cast<char>(byte(rng)));
    for (int n = len(rng); n > 0; --n) value.push_back(static_cast<char>(byte(rng)));
    if (key.empty()) key = "k";
    std::string path;
    auto params = parse_query("/p?" + url_encode(key) + "=" + url_encode(value) + "&z=1", path);
    EXPECT_EQ(params[key], value);
    EXPECT_EQ(params["z"], "1");
  }
}

TEST(ParseQuery, SplitsPathAndParameters) {
  std::string path;
  auto params = parse_query("/v1/a%20b/c?x=1&flag&y=a+b&x=2&&#frag", path);
  EXPECT_EQ(path, "/v1/a b/c");
  EXPECT_EQ(params.size(), 3u);
  EXPECT_EQ(params["x"], "2");  // the last value wins
  EXPECT_EQ(params["flag"], "");
  EXPECT_EQ(params["y"], "a b");  // '+' is a space in a query (our encoder writes %2B for '+')

  params = parse_query("/plain", path);
  EXPECT_EQ(path, "/plain");
  EXPECT_TRUE(params.empty());
}

TEST(ParseQuery, KeepsMalformedEscapesLiterally) {
  std::string path;
  auto params = parse_query("/p%zz?a=%4&b=100%", path);
  EXPECT_EQ(path, "/p%zz");
  EXPECT_EQ(params["a"], "%4");
  EXPECT_EQ(params["b"], "100%");
}

TEST(UrlDecode, RejectsMalformedEscapes) {
  EXPECT_FALSE(url_decode("%4", false));
  EXPECT_FALSE(url_decode("%g0", false));
  EXPECT_FALSE(url_decode("abc%", false));
  EXPECT_EQ(url_decode("a+b%2B", false), "a+b+");
  EXPECT_EQ(url_decode("a+b%2B", true), "a b+");
}

}  // namespace
}  // namespace recall
