// How a route answers one request: exactly one response, either a whole body or a stream.
// Routes take a Responder& so tests can hand them a MemoryResponder and call them without a socket
// (style.md item 9); the server passes one that writes to the connection.
#pragma once

#include <boost/beast/http/status.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace recall {

class Responder {
 public:
  using HttpStatus = boost::beast::http::status;

  virtual ~Responder() = default;

  // Adds a header to the response that has not been sent yet (Retry-After, ETag, ...).
  void set_header(std::string name, std::string value);

  // Whole responses. Only the first response counts; later calls are ignored (a handler bug). A
  // failure to deliver is not reported: the client is gone, and the connection is closed.
  // Strings in `body` that are not valid UTF-8 are replaced by U+FFFD rather than throwing, so one
  // odd file name cannot turn a listing into a 500; routes that must round-trip arbitrary bytes
  // encode them first (url_encode).
  void send(HttpStatus status, const nlohmann::json& body);
  void send_text(HttpStatus status, std::string_view content_type, std::string body);
  // The error body of http_errors.h with the status http_status(error.kind).
  void send_error(const Error& error);

  // Streams a large body: begin_stream, then write() pieces, then finish(). With a known length the
  // response carries Content-Length and exactly that many bytes must be written; without one it
  // uses chunked transfer encoding. write() returns an error once the client has gone away (kind
  // Cancelled) or stopped reading (Timeout), so the handler can stop its work. A stream that is not
  // finished when the handler returns is cut off, so the client sees a truncated body, never a
  // silently short file.
  Status begin_stream(HttpStatus status, std::string_view content_type,
                      std::optional<std::uint64_t> content_length);
  Status write(std::span<const std::uint8_t> data);
  Status write(std::string_view data) {
    return write({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  }
  Status finish();
  // Ends a begun stream with `error`, for a handler whose work failed after the first byte. A
  // chunked stream ends with the trailer kStreamErrorTrailer, so the client gets the reason and
  // its kind; a stream with a Content-Length can only be cut off (the client sees it short).
  // Returns `error`.
  Error fail_stream(const Error& error);

  // True once the client has hung up: a handler that waits long before its first byte (a tape
  // mount) polls this to withdraw its work. Cheap (a poll with timeout 0).
  virtual bool client_gone() const { return false; }

  bool responded() const { return state_ != State::kIdle; }
  // A whole response went out (send*, or a stream that was finished) and nothing failed.
  bool complete() const { return state_ == State::kSent || state_ == State::kFinished; }
  std::uint64_t bytes_streamed() const { return streamed_; }

 protected:
  struct Head {
    HttpStatus status;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  virtual Status do_send(const Head& head, std::string body) = 0;
  virtual Status do_begin_stream(const Head& head, std::optional<std::uint64_t> content_length) = 0;
  virtual Status do_write(std::span<const std::uint8_t> data) = 0;
  virtual Status do_finish() = 0;
  // Ends a chunked stream with one trailer field; nothing for a stream that is not chunked.
  virtual Status do_finish_with_trailer(const std::string& name, const std::string& value) = 0;

 private:
  enum class State { kIdle, kSent, kStreaming, kFinished, kFailed };
  Status fail(Error error);

  State state_ = State::kIdle;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::optional<std::uint64_t> declared_length_;
  std::uint64_t streamed_ = 0;
  Error failure_;
};

// Records the response in memory, for tests of routes.
class MemoryResponder : public Responder {
 public:
  HttpStatus status() const { return head_.status; }
  const std::string& content_type() const { return head_.content_type; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return head_.headers; }
  const std::string& body() const { return body_; }  // a whole body, or the bytes streamed so far
  nlohmann::json json() const { return nlohmann::json::parse(body_, nullptr, false); }
  bool streamed() const { return streamed_; }
  std::optional<std::uint64_t> content_length() const { return content_length_; }
  // The trailers a stream ended with (fail_stream).
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  // Makes write() fail as if the client went away once this many bytes were streamed.
  void fail_writes_after(std::uint64_t bytes) { fail_after_ = bytes; }
  // Makes client_gone() true, as if the client hung up.
  void hang_up() { gone_ = true; }
  bool client_gone() const override { return gone_; }

 protected:
  Status do_send(const Head& head, std::string body) override;
  Status do_begin_stream(const Head& head, std::optional<std::uint64_t> content_length) override;
  Status do_write(std::span<const std::uint8_t> data) override;
  Status do_finish() override { return {}; }
  Status do_finish_with_trailer(const std::string& name, const std::string& value) override;

 private:
  Head head_{HttpStatus::unknown, {}, {}};
  std::string body_;
  bool streamed_ = false;
  std::optional<std::uint64_t> content_length_;
  std::optional<std::uint64_t> fail_after_;
  bool gone_ = false;
  std::vector<std::pair<std::string, std::string>> trailers_;
};

}  // namespace recall
