// End-to-end tests of HttpServer and ClientTransport over a real Unix socket in a temp directory.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "catalogd/http/client_transport.h"
#include "catalogd/http/http_errors.h"
#include "catalogd/http/http_server.h"
#include "catalogd/http/url.h"
#include "common/sha256.h"
#include "temp_dir.h"

namespace recall {
namespace {

using boost::beast::http::status;
using namespace std::chrono_literals;

// Deterministic test payload: byte i of a stream.
void fill_pattern(std::uint64_t offset, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint64_t x = offset + i;
    out[i] = static_cast<std::uint8_t>((x * 2654435761u) >> 13 ^ x);
  }
}

Digest pattern_digest(std::uint64_t size) {
  Sha256 h;
  std::vector<std::uint8_t> piece(1 << 16);
  for (std::uint64_t off = 0; off < size; off += piece.size()) {
    std::size_t n = std::min<std::uint64_t>(piece.size(), size - off);
    fill_pattern(off, {piece.data(), n});
    h.update({piece.data(), n});
  }
  return h.finish();
}

long peak_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

class HttpServerTest : public ::testing::Test {
 protected:
  std::string socket_path() const { return dir_.path() + "/recalld.sock"; }

  void start(HttpServer::Options options = {}) {
    options.socket_path = socket_path();
    server_ = std::make_unique<HttpServer>(
        options, [this](const auto& req, const auto& caller, auto& res) { handle(req, caller, res); });
    Status s = server_->start();
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  void handle(const HttpServer::Request& req, const HttpServer::Caller& caller, Responder& res) {
    std::string path;
    auto q = parse_query(HttpServer::target(req), path);
    if (path == "/echo") {
      res.send(status::ok,
               {{"method", std::string(req.method_string())},
                {"body", req.body().empty() ? nlohmann::json() : nlohmann::json::parse(req.body())},
                {"query", q}});
    } else if (path == "/whoami") {
      res.send(status::ok, {{"pid", caller.pid}, {"uid", caller.uid}, {"gid", caller.gid}});
    } else if (path == "/error") {
      res.send_error(Error{*error_kind_from_code(q["code"]), q["message"]});
    } else if (path == "/stream") {
      std::uint64_t size = std::stoull(q["size"]);
      std::optional<std::uint64_t> length;
      if (q["chunked"] != "1") length = size;
      if (!res.begin_stream(status::ok, "application/octet-stream", length).ok()) return;
      std::vector<std::uint8_t> piece(100'000);  // not a power of two: exercise odd chunk sizes
      for (std::uint64_t off = 0; off < size; off += piece.size()) {
        std::size_t n = std::min<std::uint64_t>(piece.size(), size - off);
        fill_pattern(off, {piece.data(), n});
        if (!res.write(std::span<const std::uint8_t>(piece.data(), n)).ok()) return;
      }
      (void)res.finish();
    } else if (path == "/endless") {
      // Streams until the client goes away, then reports how the write failed.
      if (!res.begin_stream(status::ok, "application/octet-stream", std::nullopt).ok()) return;
      std::vector<std::uint8_t> piece(64 << 10, 'x');
      for (;;) {
        Status s = res.write(piece);
        if (!s.ok()) {
          endless_result_.set_value(s.error());
          return;
        }
        if (q.count("slow")) std::this_thread::sleep_for(10ms);
      }
    } else if (path == "/fails-midway") {
      // A stream whose work fails after 300,000 bytes, as a read that meets a damaged chunk.
      const bool chunked = q["chunked"] == "1";
      if (!res.begin_stream(status::ok, "application/octet-stream",
                            chunked ? std::nullopt : std::optional<std::uint64_t>(1'000'000))
               .ok())
        return;
      std::vector<std::uint8_t> piece(100'000, 'x');
      for (int i = 0; i < 3; ++i)
        if (!res.write(piece).ok()) return;
      res.fail_stream(Error{ErrorKind::Corrupt,
                            "chunk 0a1b2c in V00007 does not match its SHA-256; "
                            "from tape: copy 1 R00001: damaged record; copy 2 R00002: "
                            "damaged record"});
    } else if (path == "/sleep") {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(q["ms"])));
      res.send(status::ok, {{"slept", true}});
    } else if (path == "/noreply") {
      // returns without responding
    } else if (path == "/throw") {
      throw std::runtime_error("boom");
    } else {
      res.send_error(Error{ErrorKind::NotFound, "no route for " + path});
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<HttpServer> server_;
  std::promise<Error> endless_result_;
};

TEST_F(HttpServerTest, JsonRoundTripAndKeepAlive) {
  start();
  ClientTransport client(socket_path());
  nlohmann::json body = {{"name", "report.odt"}, {"n", 42}, {"list", {1, 2, 3}}};
  auto r = client.post("/echo?x=" + ClientTransport::url_encode("a/b&c"), body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["method"], "POST");
  EXPECT_EQ((*r)["body"], body);
  EXPECT_EQ((*r)["query"]["x"], "a/b&c");
  auto g = client.get("/echo");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)["method"], "GET");
  auto d = client.del("/echo");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["method"], "DELETE");
  EXPECT_EQ(client.connects(), 1u);  // all three on one connection
  EXPECT_EQ(server_->stats().requests, 3u);
}

TEST_F(HttpServerTest, PeerCredentialsAreTheCallers) {
  start();
  ClientTransport client(socket_path());
  auto r = client.get("/whoami");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["pid"], ::getpid());
  EXPECT_EQ((*r)["uid"], ::getuid());
  EXPECT_EQ((*r)["gid"], ::getgid());
}

TEST_F(HttpServerTest, SocketIsOpenToEveryone) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

TEST_F(HttpServerTest, EveryErrorKindRoundTripsOverTheWire) {
  start();
  ClientTransport client(socket_path());
  for (ErrorKind kind :
       {ErrorKind::NotFound, ErrorKind::Denied, ErrorKind::Offline, ErrorKind::Corrupt, ErrorKind::Timeout,
        ErrorKind::Invalid, ErrorKind::Conflict, ErrorKind::Io, ErrorKind::Cancelled, ErrorKind::Internal}) {
    std::string message = std::string("why: ") + to_string(kind) + " ü & %";
    auto r = client.get(std::string("/error?code=") + error_code(kind) + "&message=" + url_encode(message));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, kind);
    EXPECT_EQ(r.error().message, message);
  }
  EXPECT_EQ(client.connects(), 1u);  // error answers keep the connection
}

TEST_F(HttpServerTest, HandlerWithoutResponseOrThrowingGives500) {
  start();
  ClientTransport client(socket_path());
  auto r = client.get("/noreply");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Internal);
  EXPECT_NE(r.error().message.find("sent no response"), std::string::npos);
  r = client.get("/throw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Internal);
  EXPECT_NE(r.error().message.find("boom"), std::string::npos);
  EXPECT_TRUE(client.get("/echo").ok());
}

TEST_F(HttpServerTest, FiftyConcurrentClients) {
  start();
  constexpr int kClients = 50, kRequests = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      ClientTransport client(socket_path());
      for (int i = 0; i < kRequests; ++i) {
        auto r = client.post("/echo", {{"t", t}, {"i", i}});
        if (r.ok() && (*r)["body"]["t"] == t && (*r)["body"]["i"] == i) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_EQ(server_->stats().accepted, static_cast<std::uint64_t>(kClients));
}

void expect_stream_intact(ClientTransport& client, std::uint64_t size, bool chunked) {
  Sha256 h;
  std::uint64_t received = 0;
  std::size_t largest_piece = 0;
  std::string content_length, transfer_encoding;
  Status s = client.get_stream(
      "/stream?size=" + std::to_string(size) + (chunked ? "&chunked=1" : ""),
      [&](std::span<const std::uint8_t> piece) -> Status {
        h.update(piece);
        received += piece.size();
        largest_piece = std::max(largest_piece, piece.size());
        return {};
      },
      [&](const boost::beast::http::response_header<>& header) {
        content_length = std::string(header[boost::beast::http::field::content_length]);
        transfer_encoding = std::string(header[boost::beast::http::field::transfer_encoding]);
      });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(received, size);
  EXPECT_EQ(h.finish(), pattern_digest(size));
  EXPECT_LE(largest_piece, 64u << 10);
  if (chunked) {
    EXPECT_EQ(transfer_encoding, "chunked");
  } else {
    EXPECT_EQ(content_length, std::to_string(size));
  }
}

TEST_F(HttpServerTest, Streams64MiBIntactWithBoundedMemory) {
  start();
  ClientTransport client(socket_path());
  constexpr std::uint64_t kSize = 64ull << 20;
  long before = peak_rss_kib();
  expect_stream_intact(client, kSize, /*chunked=*/false);
  expect_stream_intact(client, kSize, /*chunked=*/true);
  expect_stream_intact(client, 0, /*chunked=*/true);
  expect_stream_intact(client, 12345, /*chunked=*/false);
  // Neither side held the body: the peak grew by far less than one copy of it.
  EXPECT_LT(peak_rss_kib() - before, 24 * 1024);
  EXPECT_EQ(client.connects(), 1u);
}

TEST_F(HttpServerTest, ClientDisconnectMakesWriteFail) {
  start();
  auto result = endless_result_.get_future();
  {
    ClientTransport client(socket_path());
    std::uint64_t received = 0;
    Status s = client.get_stream("/endless", [&](std::span<const std::uint8_t> piece) -> Status {
      received += piece.size();
      if (received > (1 << 20)) return Error{ErrorKind::Cancelled, "enough"};
      return {};
    });
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message, "enough");  // the sink's own error comes back
  }
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(result.get().kind, ErrorKind::Cancelled);
}

// Regression (issue 24): damage found while a body streams reached the client as "lost the
// connection" (exit 1); the reason and its kind were in recalld's log only.
TEST_F(HttpServerTest, AStreamThatFailsMidwayTellsTheClientWhy) {
  start();
  ClientTransport client(socket_path());
  std::uint64_t received = 0;
  Status s = client.get_stream("/fails-midway?chunked=1", [&](std::span<const std::uint8_t> piece) -> Status {
    received += piece.size();
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(s.error().message,
            "chunk 0a1b2c in V00007 does not match its SHA-256; from tape: copy 1 R00001: damaged record; "
            "copy 2 R00002: damaged record");
  EXPECT_EQ(received, 300'000u);
  // The connection is not reused after a failed stream, and the next call works.
  EXPECT_TRUE(client.get("/echo").ok());
  // With a Content-Length there is no trailer: the body is cut off, and that is an Io error.
  s = client.get_stream("/fails-midway", [](auto) -> Status { return {}; });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Io);
}

TEST_F(HttpServerTest, ReconnectsAfterIdleTimeout) {
  HttpServer::Options options;
  options.read_timeout = 1s;
  start(options);
  ClientTransport client(socket_path());
  ASSERT_TRUE(client.get("/echo").ok());
  std::this_thread::sleep_for(1500ms);  // the server drops the idle connection
  auto r = client.get("/echo");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(client.connects(), 2u);
}

TEST_F(HttpServerTest, ClientTimeoutIsTimeout) {
  start();
  ClientTransport client(socket_path(), 200ms);
  auto r = client.get("/sleep?ms=1000");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
  r = client.get("/sleep?ms=0");  // a new connection; the late answer to the first one is not read
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(client.connects(), 2u);
}

TEST_F(HttpServerTest, BusyServerAnswers503) {
  HttpServer::Options options;
  options.max_connections = 2;
  start(options);
  ClientTransport a(socket_path()), b(socket_path()), c(socket_path());
  ASSERT_TRUE(a.get("/echo").ok());
  ASSERT_TRUE(b.get("/echo").ok());
  auto r = c.get("/echo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_NE(r.error().message.find("busy"), std::string::npos) << r.error().message;
  EXPECT_EQ(server_->stats().rejected_busy, 1u);
  a.close();
  // Once a connection is gone, a new client gets in (the server notices the close promptly).
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    admitted = c.get("/echo").ok();
    if (!admitted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(admitted);
}

TEST_F(HttpServerTest, OversizedBodyIsRejected) {
  HttpServer::Options options;
  options.body_limit = 1024;
  start(options);
  ClientTransport client(socket_path());
  auto r = client.post("/echo", {{"blob", std::string(4096, 'a')}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  EXPECT_NE(r.error().message.find("1024"), std::string::npos);
  EXPECT_TRUE(client.post("/echo", {{"small", 1}}).ok());  // reconnects
}

// A raw client, for what ClientTransport never does.
int raw_connect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

TEST_F(HttpServerTest, SlowPartialRequestGets408) {
  HttpServer::Options options;
  options.read_timeout = 1s;
  start(options);
  int fd = raw_connect(socket_path());
  std::string partial = "GET /echo HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  auto t0 = std::chrono::steady_clock::now();
  std::string answer = read_all(fd);  // returns at the server's close
  ::close(fd);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"timeout\""), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  start();
  int fd = raw_connect(socket_path());
  std::string junk = "NOT HTTP AT ALL\r\n\r\n";
  ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  std::string answer = read_all(fd);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
}

TEST_F(HttpServerTest, StopWithConnectedClientsIsPrompt) {
  start();  // read_timeout 30 s: stop() must not wait for it
  std::vector<std::unique_ptr<ClientTransport>> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(std::make_unique<ClientTransport>(socket_path()));
    ASSERT_TRUE(idle.back()->get("/echo").ok());
  }
  int raw = raw_connect(socket_path());  // connected, never sends anything
  std::promise<Status> streamed;
  std::thread streamer([&] {
    ClientTransport client(socket_path());
    streamed.set_value(client.get_stream("/endless?slow=1", [](auto) -> Status { return {}; }));
  });
  std::this_thread::sleep_for(200ms);

  auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  streamer.join();
  Status s = streamed.get_future().get();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Io);  // a cut-off body is an error, not a short success
  EXPECT_EQ(read_all(raw), "");
  ::close(raw);
  EXPECT_EQ(server_->stats().active, 0u);
  struct stat st {};
  EXPECT_NE(::stat(socket_path().c_str(), &st), 0);  // socket file removed
  auto r = idle[0]->get("/echo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  server_->stop();  // idempotent
}

TEST_F(HttpServerTest, StopFromAnotherThreadAndDestructor) {
  start();
  std::thread t([&] { server_->stop(); });
  server_->stop();
  t.join();
  server_.reset();
}

TEST_F(HttpServerTest, StaleSocketIsReplacedLiveOneIsNot) {
  start();
  HttpServer::Options options;
  options.socket_path = socket_path();
  HttpServer second(options, [](const auto&, const auto&, auto& res) { res.send(status::ok, {}); });
  Status s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Conflict);

  // A socket file whose daemon died: bind a socket and close it without unlinking.
  server_->stop();
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path().data(), socket_path().size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  HttpServer third(options, [](const auto&, const auto&, auto& res) {
    res.send(status::ok, {{"third", true}});
  });
  s = third.start();
  ASSERT_TRUE(s.ok()) << s.error().message;
  ClientTransport client(socket_path());
  auto r = client.get("/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["third"], true);
}

TEST_F(HttpServerTest, RegularFileAtSocketPathIsNotRemoved) {
  { std::ofstream(socket_path()) << "precious"; }
  HttpServer::Options options;
  options.socket_path = socket_path();
  HttpServer server(options, [](const auto&, const auto&, auto& res) { res.send(status::ok, {}); });
  Status s = server.start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Conflict);
  struct stat st {};
  ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(ClientTransport, NoDaemonGivesAnActionableMessage) {
  testing::TempDir dir;
  ClientTransport client(dir.path() + "/recalld.sock");
  auto r = client.get("/v1/hosts");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_EQ(r.error().message,
            "cannot reach recalld at " + dir.path() +
                "/recalld.sock: No such file or directory — is it running? (start it with: "
                "recalld --home " +
                dir.path() + ")");
}

TEST(ClientTransport, RejectsUnencodedTargets) {
  ClientTransport client("/nonexistent.sock");
  auto r = client.get("/v1/ls?path=/a b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
  EXPECT_FALSE(client.get("v1/hosts").ok());
}

}  // namespace
}  // namespace recall
