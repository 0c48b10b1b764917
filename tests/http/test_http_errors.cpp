#include <gtest/gtest.h>

#include <set>

#include "catalogd/http/http_errors.h"

namespace recall {
namespace {

constexpr ErrorKind kAllKinds[] = {
    ErrorKind::NotFound, ErrorKind::Denied,   ErrorKind::Offline, ErrorKind::Corrupt,   ErrorKind::Timeout,
    ErrorKind::Invalid,  ErrorKind::Conflict, ErrorKind::Io,      ErrorKind::Cancelled, ErrorKind::Internal,
};

TEST(HttpErrors, StatusPerKind) {
  EXPECT_EQ(http_status(ErrorKind::NotFound), 404);
  EXPECT_EQ(http_status(ErrorKind::Denied), 403);
  EXPECT_EQ(http_status(ErrorKind::Offline), 503);
  EXPECT_EQ(http_status(ErrorKind::Invalid), 400);
  EXPECT_EQ(http_status(ErrorKind::Conflict), 409);
  EXPECT_EQ(http_status(ErrorKind::Timeout), 504);
  EXPECT_EQ(http_status(ErrorKind::Cancelled), 410);
  EXPECT_EQ(http_status(ErrorKind::Corrupt), 500);
  EXPECT_EQ(http_status(ErrorKind::Io), 500);
  EXPECT_EQ(http_status(ErrorKind::Internal), 500);
}

TEST(HttpErrors, EveryKindRoundTripsThroughTheBody) {
  std::set<std::string> codes;
  for (ErrorKind kind : kAllKinds) {
    Error original{kind, std::string("something about /home/ü \"quoted\" ") + to_string(kind)};
    nlohmann::json body = error_body(original);
    EXPECT_EQ(body["error"]["code"], error_code(kind));
    EXPECT_EQ(body["error"]["kind"], to_string(kind));
    Error back = error_from_response(http_status(kind), body.dump());
    EXPECT_EQ(back.kind, kind) << error_code(kind);
    EXPECT_EQ(back.message, original.message);
    EXPECT_EQ(error_kind_from_code(error_code(kind)), kind);
    codes.insert(error_code(kind));
  }
  EXPECT_EQ(codes.size(), std::size(kAllKinds));  // codes are distinct
  EXPECT_FALSE(error_kind_from_code("nope"));
}

TEST(HttpErrors, CodeWinsOverStatus) {
  Error e = error_from_response(500, R"({"error":{"code":"offline","message":"on tape R00042"}})");
  EXPECT_EQ(e.kind, ErrorKind::Offline);
  EXPECT_EQ(e.message, "on tape R00042");
  e = error_from_response(500, R"({"error":{"kind":"not found","message":"m"}})");
  EXPECT_EQ(e.kind, ErrorKind::NotFound);
}

TEST(HttpErrors, ForeignBodiesFallBackToTheStatus) {
  Error e = error_from_response(404, "<html>Not Found</html>\n");
  EXPECT_EQ(e.kind, ErrorKind::NotFound);
  EXPECT_EQ(e.message, "recalld answered HTTP 404: <html>Not Found</html>");
  EXPECT_EQ(error_from_response(403, "").kind, ErrorKind::Denied);
  EXPECT_EQ(error_from_response(418, "").kind, ErrorKind::Invalid);
  EXPECT_EQ(error_from_response(502, "{}").kind, ErrorKind::Internal);
  EXPECT_EQ(error_from_response(503, R"({"error":42})").kind, ErrorKind::Offline);
  for (ErrorKind kind : kAllKinds) {
    // Without a body, the status alone still gives the kind back wherever the status is unique.
    if (http_status(kind) != 500) {
      EXPECT_EQ(error_kind_from_status(http_status(kind)), kind);
    }
  }
}

}  // namespace
}  // namespace recall
