#include "catalogd/http/responder.h"

#include "catalogd/http/http_errors.h"

namespace recall {

void Responder::set_header(std::string name, std::string value) {
  if (state_ == State::kIdle) headers_.emplace_back(std::move(name), std::move(value));
}

void Responder::send(HttpStatus status, const nlohmann::json& body) {
  if (state_ != State::kIdle) return;
  send_text(status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Responder::send_text(HttpStatus status, std::string_view content_type, std::string body) {
  if (state_ != State::kIdle) return;
  state_ = State::kSent;
  Status s = do_send(Head{status, std::string(content_type), std::move(headers_)}, std::move(body));
  if (!s.ok()) (void)fail(s.error());
}

void Responder::send_error(const Error& error) {
  send(static_cast<HttpStatus>(http_status(error.kind)), error_body(error));
}

Status Responder::begin_stream(HttpStatus status, std::string_view content_type,
                               std::optional<std::uint64_t> content_length) {
  if (state_ != State::kIdle) return Error{ErrorKind::Internal, "begin_stream: a response was already sent"};
  state_ = State::kStreaming;
  declared_length_ = content_length;
  Status s = do_begin_stream(Head{status, std::string(content_type), std::move(headers_)}, content_length);
  if (!s.ok()) return fail(s.error());
  return {};
}

Status Responder::write(std::span<const std::uint8_t> data) {
  if (state_ == State::kFailed) return failure_;
  if (state_ != State::kStreaming)
    return Error{ErrorKind::Internal, "write: no stream was begun, or it was finished"};
  if (data.empty()) return {};  // an empty chunk would end a chunked body
  if (declared_length_ && data.size() > *declared_length_ - streamed_) {
    return fail(Error{ErrorKind::Internal, "handler wrote more than the declared Content-Length of " +
                                               std::to_string(*declared_length_) + " bytes"});
  }
  Status s = do_write(data);
  if (!s.ok()) return fail(s.error());
  streamed_ += data.size();
  return {};
}

Status Responder::finish() {
  if (state_ == State::kFailed) return failure_;
  if (state_ != State::kStreaming)
    return Error{ErrorKind::Internal, "finish: no stream was begun, or it was finished"};
  if (declared_length_ && streamed_ != *declared_length_) {
    return fail(Error{ErrorKind::Internal, "stream finished after " + std::to_string(streamed_) + " of " +
                                               std::to_string(*declared_length_) + " declared bytes"});
  }
  Status s = do_finish();
  if (!s.ok()) return fail(s.error());
  state_ = State::kFinished;
  return {};
}

Error Responder::fail_stream(const Error& error) {
  if (state_ != State::kStreaming) return error;
  // One line of ASCII: a field value may not hold CR or LF, and JSON escapes them anyway.
  const std::string value = error_body(error).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  (void)do_finish_with_trailer(kStreamErrorTrailer, value);
  (void)fail(error);
  return error;
}

Status Responder::fail(Error error) {
  state_ = State::kFailed;
  failure_ = error;
  return error;
}

Status MemoryResponder::do_send(const Head& head, std::string body) {
  head_ = head;
  body_ = std::move(body);
  return {};
}

Status MemoryResponder::do_finish_with_trailer(const std::string& name, const std::string& value) {
  if (!content_length_) trailers_.emplace_back(name, value);
  return {};
}

Status MemoryResponder::do_begin_stream(const Head& head, std::optional<std::uint64_t> content_length) {
  head_ = head;
  streamed_ = true;
  content_length_ = content_length;
  return {};
}

Status MemoryResponder::do_write(std::span<const std::uint8_t> data) {
  if (fail_after_ && body_.size() + data.size() > *fail_after_) {
    return Error{ErrorKind::Cancelled, "the client closed the connection"};
  }
  body_.append(reinterpret_cast<const char*>(data.data()), data.size());
  return {};
}

}  // namespace recall
