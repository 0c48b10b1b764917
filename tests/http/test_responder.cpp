#include <gtest/gtest.h>

#include "catalogd/http/responder.h"

namespace recall {
namespace {

using boost::beast::http::status;

TEST(Responder, OnlyTheFirstResponseCounts) {
  MemoryResponder r;
  EXPECT_FALSE(r.responded());
  r.set_header("Retry-After", "5");
  r.send(status::ok, {{"a", 1}});
  r.send(status::not_found, {{"b", 2}});
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.status(), status::ok);
  EXPECT_EQ(r.json()["a"], 1);
  ASSERT_EQ(r.headers().size(), 1u);
  EXPECT_EQ(r.headers()[0].first, "Retry-After");
  EXPECT_FALSE(r.begin_stream(status::ok, "text/plain", std::nullopt).ok());
}

TEST(Responder, InvalidUtf8IsReplacedNotThrown) {
  MemoryResponder r;
  r.send(status::ok, {{"name", std::string("bad\xff")}});
  EXPECT_EQ(r.json()["name"], "bad\xEF\xBF\xBD");
}

TEST(Responder, SendErrorUsesTheMapping) {
  MemoryResponder r;
  r.send_error(Error{ErrorKind::Denied, "not yours"});
  EXPECT_EQ(r.status(), status::forbidden);
  EXPECT_EQ(r.json()["error"]["code"], "denied");
  EXPECT_EQ(r.content_type(), "application/json");
}

TEST(Responder, StreamWithLengthMustMatch) {
  MemoryResponder r;
  ASSERT_TRUE(r.begin_stream(status::ok, "application/octet-stream", 5).ok());
  EXPECT_TRUE(r.write(std::string_view("abc")).ok());
  Status over = r.write(std::string_view("def"));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().kind, ErrorKind::Internal);
  EXPECT_FALSE(r.finish().ok());  // a failed stream stays failed
  EXPECT_FALSE(r.complete());

  MemoryResponder short_stream;
  ASSERT_TRUE(short_stream.begin_stream(status::ok, "text/plain", 5).ok());
  EXPECT_TRUE(short_stream.write(std::string_view("abc")).ok());
  EXPECT_FALSE(short_stream.finish().ok());
}

TEST(Responder, ChunkedStreamAndClientGone) {
  MemoryResponder r;
  r.fail_writes_after(4);
  ASSERT_TRUE(r.begin_stream(status::ok, "text/plain", std::nullopt).ok());
  EXPECT_TRUE(r.write(std::string_view("abcd")).ok());
  EXPECT_TRUE(r.write(std::string_view("")).ok());
  Status gone = r.write(std::string_view("e"));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::Cancelled);
  EXPECT_EQ(r.body(), "abcd");
  EXPECT_EQ(r.bytes_streamed(), 4u);
}

}  // namespace
}  // namespace recall
