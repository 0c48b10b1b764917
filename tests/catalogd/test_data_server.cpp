// DataServer and DataClient over a real Unix socket: replies with and without a descriptor,
// errors that keep their kind, cancellation from the client, and clients that misbehave.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "catalog_test_util.h"
#include "catalogd/daemon/data_server.h"
#include "catalogd/http/data_client.h"
#include "catalogd/http/http_errors.h"
#include "catalogd/http/unix_socket.h"
#include "volume_test_util.h"

namespace recall::daemon {
namespace {

using namespace std::chrono_literals;
using Reply = Result<std::pair<nlohmann::json, UniqueFd>>;

class DataServerTest : public ::testing::Test {
 protected:
  std::string socket_path() const { return tmp_.path() + "/recalld-data.sock"; }

  void start(DataServer::Options options = {}) {
    options.socket_path = socket_path();
    server_ = std::make_unique<DataServer>(
        options, [this](const auto& caller, const auto& request, const auto& cancelled) {
          return handle(caller, request, cancelled);
        });
    auto s = server_->start();
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  Reply handle(const DataServer::Caller& caller, const nlohmann::json& request,
               const std::function<bool()>& cancelled) {
    std::string op = request.value("op", "");
    if (op == "whoami")
      return std::pair{nlohmann::json{{"uid", caller.uid}, {"gid", caller.gid}}, UniqueFd()};
    if (op == "file") {
      // An anonymous file with known bytes, as the stager would hand out.
      UniqueFd fd(::open(tmp_.path().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
      std::string text = request.value("text", "");
      if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return Error{ErrorKind::Io, "test file"};
      return std::pair{nlohmann::json{{"size", text.size()}}, std::move(fd)};
    }
    if (op == "error")
      return Error{*error_kind_from_code(request.value("code", "")), request.value("message", "")};
    if (op == "wait") {
      // Blocks until the client goes away (or 10 s), and reports what it saw.
      auto until = std::chrono::steady_clock::now() + 10s;
      bool seen = false;
      while (!(seen = cancelled()) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(5ms);
      wait_saw_cancel_.set_value(seen);
      return Error{ErrorKind::Cancelled, "client left"};
    }
    if (op == "slow") {
      std::this_thread::sleep_for(200ms);
      return std::pair{nlohmann::json{{"late", true}}, UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC))};
    }
    if (op == "throw") throw std::runtime_error("boom");
    if (op == "array") return std::pair{nlohmann::json::array(), UniqueFd()};
    return Error{ErrorKind::Invalid, "unknown op " + op};
  }

  // A raw connection for speaking the protocol by hand.
  UniqueFd raw() {
    auto fd = connect_to_recalld(socket_path());
    EXPECT_TRUE(fd.ok()) << fd.error().message;
    return fd.ok() ? std::move(*fd) : UniqueFd();
  }
  static void send_all(int fd, const std::string& s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  // Reads one reply line (or up to end of stream).
  static std::string read_line(int fd) {
    std::string out;
    char c;
    while (::recv(fd, &c, 1, 0) == 1) {
      if (c == '\n') break;
      out.push_back(c);
    }
    return out;
  }

  testing::CatalogTempDir tmp_;
  std::unique_ptr<DataServer> server_;
  std::promise<bool> wait_saw_cancel_;
};

TEST_F(DataServerTest, RoundTripWithADescriptorTheClientCanRead) {
  start();
  DataClient client(socket_path());
  auto r = client.call({{"op", "file"}, {"text", "hello, staged world"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body["size"], 19);
  EXPECT_EQ(r->body["fd"], true);
  ASSERT_TRUE(r->fd);
  EXPECT_TRUE(::fcntl(r->fd.get(), F_GETFD) & FD_CLOEXEC);
  auto bytes = testing::read_whole(r->fd.get());
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "hello, staged world");

  auto who = client.call({{"op", "whoami"}});
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->body["uid"], ::getuid());
  EXPECT_EQ(who->body["gid"], ::getgid());
  EXPECT_FALSE(who->body.contains("fd"));
  EXPECT_FALSE(who->fd);
}

TEST_F(DataServerTest, ErrorsKeepTheirKindAndMessage) {
  start();
  DataClient client(socket_path());
  for (ErrorKind kind :
       {ErrorKind::NotFound, ErrorKind::Denied, ErrorKind::Offline, ErrorKind::Corrupt, ErrorKind::Timeout,
        ErrorKind::Invalid, ErrorKind::Conflict, ErrorKind::Io, ErrorKind::Cancelled, ErrorKind::Internal}) {
    auto r = client.call(
        {{"op", "error"}, {"code", error_code(kind)}, {"message", std::string("it is ") + to_string(kind)}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, kind);
    EXPECT_EQ(r.error().message, std::string("it is ") + to_string(kind));
  }
  auto thrown = client.call({{"op", "throw"}});
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().kind, ErrorKind::Internal);
  auto array = client.call({{"op", "array"}});
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().kind, ErrorKind::Internal);
  auto not_object = client.call(nlohmann::json::array({1, 2}));
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().kind, ErrorKind::Invalid);
}

TEST_F(DataServerTest, AbortFromAnotherThreadCancelsTheCallAndTheHandlerSeesIt) {
  start();
  DataClient client(socket_path());
  auto call = std::async(std::launch::async, [&] { return client.call({{"op", "wait"}}); });
  std::this_thread::sleep_for(100ms);
  auto aborted_at = std::chrono::steady_clock::now();
  client.abort();
  auto r = call.get();
  EXPECT_LT(std::chrono::steady_clock::now() - aborted_at, 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Cancelled) << r.error().message;
  auto saw = wait_saw_cancel_.get_future();
  ASSERT_EQ(saw.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(saw.get());
  // Aborted for good: a later call does not even connect.
  auto later = client.call({{"op", "whoami"}});
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().kind, ErrorKind::Cancelled);
}

TEST_F(DataServerTest, GarbageGetsInvalidAndTheConnectionGoesOn) {
  start();
  UniqueFd fd = raw();
  for (std::string bad : {"not json at all\n", "[1,2,3]\n", "\"text\"\n", "\n"}) {
    send_all(fd.get(), bad);
    auto reply = nlohmann::json::parse(read_line(fd.get()), nullptr, false);
    auto e = error_from_body(reply);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->kind, ErrorKind::Invalid) << bad;
  }
  // Two requests in one write: two replies, in order.
  send_all(fd.get(), "{\"op\":\"whoami\"}\n{\"op\":\"error\",\"code\":\"not_found\",\"message\":\"x\"}\n");
  EXPECT_EQ(nlohmann::json::parse(read_line(fd.get()))["uid"], ::getuid());
  EXPECT_EQ(error_from_body(nlohmann::json::parse(read_line(fd.get())))->kind, ErrorKind::NotFound);
}

TEST_F(DataServerTest, ATooLongRequestIsRefusedAndClosed) {
  DataServer::Options o;
  o.max_request = 1000;
  start(o);
  UniqueFd fd = raw();
  send_all(fd.get(), std::string(1500, 'x'));
  auto e = error_from_body(nlohmann::json::parse(read_line(fd.get()), nullptr, false));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ErrorKind::Invalid);
  EXPECT_NE(e->message.find("1000"), std::string::npos);
  char c;
  EXPECT_EQ(::recv(fd.get(), &c, 1, 0), 0);  // closed
}

TEST_F(DataServerTest, AClientThatLeavesMidCallDoesNotHurtTheServer) {
  start();
  {
    UniqueFd fd = raw();
    send_all(fd.get(), "{\"op\":\"slow\"}\n");
  }  // gone before the reply (and its descriptor) is sent
  std::this_thread::sleep_for(300ms);
  DataClient client(socket_path());
  auto r = client.call({{"op", "file"}, {"text", "still here"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(server_->stats().requests, 2u);
}

TEST_F(DataServerTest, StopCancelsRunningHandlersAndRemovesTheSocket) {
  start();
  DataClient client(socket_path());
  auto call = std::async(std::launch::async, [&] { return client.call({{"op", "wait"}}); });
  std::this_thread::sleep_for(100ms);
  server_->stop();
  EXPECT_TRUE(wait_saw_cancel_.get_future().get());
  EXPECT_FALSE(call.get().ok());
  EXPECT_FALSE(std::filesystem::exists(socket_path()));
}

TEST_F(DataServerTest, BusyServerAnswersWithAnError) {
  DataServer::Options o;
  o.max_connections = 1;
  start(o);
  UniqueFd first = raw();
  send_all(first.get(), "{\"op\":\"whoami\"}\n");
  ASSERT_FALSE(read_line(first.get()).empty());  // the first connection is being served
  DataClient client(socket_path());
  auto r = client.call({{"op", "whoami"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_NE(r.error().message.find("busy"), std::string::npos) << r.error().message;
}

TEST_F(DataServerTest, NoServerGivesAnActionableMessage) {
  DataClient client(tmp_.path() + "/recalld-data.sock");
  auto r = client.call({{"op", "whoami"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_NE(r.error().message.find("cannot reach recalld at " + tmp_.path() + "/recalld-data.sock"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("recalld --home " + tmp_.path()), std::string::npos) << r.error().message;
}

TEST_F(DataServerTest, ManyClientsAtOnce) {
  start();
  std::vector<std::future<bool>> calls;
  for (int i = 0; i < 16; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      DataClient client(socket_path());
      std::string text = "file " + std::to_string(i);
      auto r = client.call({{"op", "file"}, {"text", text}});
      if (!r.ok() || !r->fd) return false;
      auto bytes = testing::read_whole(r->fd.get());
      return std::string(bytes.begin(), bytes.end()) == text;
    }));
  }
  for (auto& c : calls) EXPECT_TRUE(c.get());
}

}  // namespace
}  // namespace recall::daemon
