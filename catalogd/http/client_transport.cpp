#include "catalogd/http/client_transport.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "catalogd/http/http_errors.h"
#include "catalogd/http/unix_socket.h"
#include "catalogd/http/url.h"

namespace recall {
namespace bhttp = boost::beast::http;
namespace {

// JSON answers are listings and job states; anything this large is a runaway response, and routes
// that return big data stream it.
constexpr std::uint64_t kMaxJsonBody = 256ull << 20;
// An error answer to get_stream is read whole to build the Error; it is small unless broken.
constexpr std::size_t kMaxErrorBody = 1 << 20;
constexpr std::size_t kPieceSize = 64 << 10;

bool is_2xx(unsigned status) { return status >= 200 && status < 300; }

}  // namespace

std::string default_socket_path() {
  if (const char* s = std::getenv("RECALL_SOCKET"); s && *s) return s;
  return "/var/lib/recall/recalld.sock";
}

ClientTransport::ClientTransport(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

std::string ClientTransport::url_encode(std::string_view bytes) { return recall::url_encode(bytes); }

void ClientTransport::set_header(std::string name, std::string value) {
  extra_name_ = std::move(name);
  extra_value_ = std::move(value);
}

void ClientTransport::close() {
  stream_.close();
  buffer_.clear();
}

Result<nlohmann::json> ClientTransport::get(std::string target) {
  return call(bhttp::verb::get, std::move(target), nullptr);
}

Result<nlohmann::json> ClientTransport::post(std::string target, const nlohmann::json& body) {
  return call(bhttp::verb::post, std::move(target), &body);
}

Result<nlohmann::json> ClientTransport::del(std::string target) {
  return call(bhttp::verb::delete_, std::move(target), nullptr);
}

Status ClientTransport::connect() {
  close();
  auto fd = connect_to_recalld(socket_path_);
  if (!fd.ok()) return fd.error();
  stream_ = FdStream(fd->release());
  stream_.set_read_idle_timeout(timeout_);
  stream_.set_write_timeout(timeout_);
  ++connects_;
  return {};
}

Error ClientTransport::transport_error(const boost::system::error_code& ec, std::string_view during) const {
  if (ec == boost::asio::error::timed_out) {
    return Error{ErrorKind::Timeout, "recalld at " + socket_path_ + " did not answer within " +
                                         std::to_string(timeout_.count()) + " ms (" + std::string(during) +
                                         ")"};
  }
  return Error{ErrorKind::Io, "lost the connection to recalld at " + socket_path_ + " (" +
                                  std::string(during) + "): " + ec.message()};
}

Result<ClientTransport::Request> ClientTransport::make_request(bhttp::verb verb, std::string target) const {
  // Beast writes the target verbatim: a space or CR/LF would corrupt the request line.
  bool clean = !target.empty() && target.front() == '/';
  for (char c : target)
    clean = clean && static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  if (!clean)
    return Error{ErrorKind::Invalid, "request target must start with '/' and be URL-encoded: " + target};
  Request request{verb, target, 11};
  request.set(bhttp::field::host, "recalld");
  request.set(bhttp::field::user_agent, "recall-client");
  request.keep_alive(true);
  if (!extra_name_.empty() && !extra_value_.empty()) request.set(extra_name_, extra_value_);
  return request;
}

Status ClientTransport::exchange(const Request& request, bhttp::basic_parser<false>& parser) {
  for (int attempt = 0;; ++attempt) {
    bool reused = stream_.is_open();
    if (reused && stream_.peer_closed()) {
      close();  // the server closed it while idle; that is expected, not an error
      reused = false;
    }
    if (!stream_.is_open()) RECALL_TRY(connect());
    boost::system::error_code ec;
    bhttp::write(stream_, request, ec);
    boost::system::error_code read_ec;
    // Even when the write failed, a fresh connection may hold an answer (503 busy) sent before the
    // server closed it.
    if (!ec || !reused) bhttp::read_header(stream_, buffer_, parser, read_ec);
    if (!read_ec && (!ec || parser.is_header_done())) return {};
    if (!ec) ec = read_ec;
    bool nothing_back = !parser.got_some();
    close();
    // The server may close an idle connection just as we send on it; it never saw the request, so
    // sending it again on a new connection is safe. Only once: a second failure is real.
    if (reused && nothing_back && attempt == 0) continue;
    return transport_error(ec, "sending " + std::string(request.target()));
  }
}

Result<nlohmann::json> ClientTransport::call(bhttp::verb verb, std::string target,
                                             const nlohmann::json* body) {
  auto request = make_request(verb, std::move(target));
  RECALL_TRY(request);
  if (body) {
    try {
      request->body() = body->dump();
    } catch (const nlohmann::json::exception& e) {
      return Error{ErrorKind::Invalid, std::string("request body cannot be encoded as JSON: ") + e.what()};
    }
    request->set(bhttp::field::content_type, "application/json");
  }
  request->prepare_payload();

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxJsonBody);
  unreachable_ = true;  // until an answer arrives
  RECALL_TRY(exchange(*request, parser));
  boost::system::error_code ec;
  bhttp::read(stream_, buffer_, parser, ec);
  if (ec) {
    close();
    return transport_error(ec, "reading the answer to " + std::string(request->target()));
  }
  unreachable_ = false;
  const auto& response = parser.get();
  if (!response.keep_alive()) close();
  unsigned status = response.result_int();
  if (!is_2xx(status)) return error_from_response(static_cast<int>(status), response.body());
  if (response.body().empty()) return nlohmann::json(nullptr);
  nlohmann::json doc = nlohmann::json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Error{ErrorKind::Internal,
                 "recalld answered " + std::string(request->target()) + " with a body that is not JSON"};
  }
  return doc;
}

Status ClientTransport::get_stream(std::string target, Sink sink, HeaderCallback on_header) {
  auto request = make_request(bhttp::verb::get, std::move(target));
  RECALL_TRY(request);
  request->prepare_payload();

  bhttp::response_parser<bhttp::buffer_body> parser;
  // No limit: the sink decides what to do with multi-GB bodies. Not boost::none: Beast 1.74 compares
  // Content-Length against the optional, and any value is "greater than none" (body_limit error).
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  RECALL_TRY(exchange(*request, parser));
  unsigned status = parser.get().result_int();
  std::string error_text;
  if (is_2xx(status)) {
    if (on_header) on_header(parser.get().base());
  } else {
    sink = [&error_text](std::span<const std::uint8_t> piece) -> Status {
      if (error_text.size() + piece.size() > kMaxErrorBody)
        return Error{ErrorKind::Internal, "error answer too large"};
      error_text.append(reinterpret_cast<const char*>(piece.data()), piece.size());
      return {};
    };
  }

  std::vector<std::uint8_t> piece(kPieceSize);
  std::uint64_t received = 0;
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    boost::system::error_code ec;
    bhttp::read(stream_, buffer_, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      close();
      return transport_error(
          ec, "reading " + std::string(request->target()) + " after " + std::to_string(received) + " bytes");
    }
    std::size_t n = piece.size() - parser.get().body().size;
    received += n;
    if (n == 0) continue;
    Status s = sink({piece.data(), n});
    if (!s.ok()) {
      close();  // the rest of the body is still on the wire; this connection cannot be reused
      if (!is_2xx(status)) break;
      return s;
    }
  }
  if (!parser.get().keep_alive()) close();
  if (!is_2xx(status)) return error_from_response(static_cast<int>(status), error_text);
  // A stream that failed after its first byte ends with the server's Error in a trailer.
  if (auto it = parser.get().find(kStreamErrorTrailer); it != parser.get().end()) {
    close();
    auto doc = nlohmann::json::parse(std::string(it->value()), nullptr, false);
    if (auto e = error_from_body(doc)) return *e;
    return Error{ErrorKind::Io, "recalld ended the stream of " + std::string(request->target()) +
                                    " with an unreadable error"};
  }
  return {};
}

}  // namespace recall
