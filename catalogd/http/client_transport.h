// The client side of recalld's HTTP API, used by every front end (CLI, FUSE mount, browser): one
// keep-alive connection over the daemon's Unix socket, JSON calls and streamed downloads.
//
// Not thread-safe: a transport carries one request at a time. Give each thread its own (they are
// cheap: a connection is opened on first use).
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "catalogd/http/fd_stream.h"
#include "common/result.h"

namespace recall {

// $RECALL_SOCKET, else the socket of a recalld started with the default home.
std::string default_socket_path();

class ClientTransport {
 public:
  // Receives a streamed body piece by piece (at most 64 KiB each); returning an error aborts the
  // download and is returned by get_stream.
  using Sink = std::function<Status(std::span<const std::uint8_t>)>;
  using HeaderCallback = std::function<void(const boost::beast::http::response_header<>&)>;

  // `timeout`: how long to wait for the next byte of an answer before giving up with Timeout; zero
  // waits indefinitely, which is the default because a read of a file on tape legitimately waits
  // for a cartridge to be mounted.
  explicit ClientTransport(std::string socket_path,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

  // JSON calls. `target` is the path plus an optional query, already encoded ("/v1/ls?path=%2Fetc").
  // A 2xx answer yields its JSON body (null when empty); any other answer yields the Error the
  // server described (error_from_response). Failing to connect is ErrorKind::Io with a message that
  // says how to start the daemon.
  Result<nlohmann::json> get(std::string target);
  Result<nlohmann::json> post(std::string target, const nlohmann::json& body);
  Result<nlohmann::json> del(std::string target);

  // GET whose 2xx body is handed to `sink` as it arrives, never held in memory as a whole.
  // `on_header` sees the response header (Content-Length, Content-Type, ...) before the first piece.
  // A body cut off by the server is an Io error, so a short file is never mistaken for a whole one.
  Status get_stream(std::string target, Sink sink, HeaderCallback on_header = {});

  // Percent-encodes a query parameter value (url.h): every byte outside A-Z a-z 0-9 - . _ ~.
  static std::string url_encode(std::string_view bytes);

  // A header sent with every later request until changed; an empty value stops sending it. Used by
  // a root-run recall-fs to say on whose behalf it asks (recalld trusts it only from uid 0).
  void set_header(std::string name, std::string value);

  // Drops the connection; the next call reconnects.
  void close();

  const std::string& socket_path() const { return socket_path_; }
  std::uint64_t connects() const { return connects_; }  // connections opened so far
  // Whether the last JSON call failed for want of an answer (no daemon, cut off, timed out),
  // as opposed to an error answer from recalld.
  bool unreachable() const { return unreachable_; }

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  Result<nlohmann::json> call(boost::beast::http::verb verb, std::string target, const nlohmann::json* body);
  Result<Request> make_request(boost::beast::http::verb verb, std::string target) const;
  Status connect();
  // Sends the request and reads the response header, reconnecting once when a reused keep-alive
  // connection turns out to have been closed by the server before it read the request.
  Status exchange(const Request& request, boost::beast::http::basic_parser<false>& parser);
  Error transport_error(const boost::system::error_code& ec, std::string_view during) const;

  std::string socket_path_;
  std::chrono::milliseconds timeout_;
  FdStream stream_;
  boost::beast::flat_buffer
      buffer_;  // bytes read past the current response belong to no one; kept per connection
  std::uint64_t connects_ = 0;
  bool unreachable_ = false;
  std::string extra_name_, extra_value_;
};

}  // namespace recall
