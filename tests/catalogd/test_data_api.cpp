// Api::handle_data end to end: a small tree imported into a temporary daemon home, opened by
// version id as root and as other users, with the catalog's access rule and offline volumes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "catalog_test_util.h"
#include "catalogd/daemon/api.h"
#include "catalogd/daemon/data_server.h"
#include "catalogd/daemon/startup.h"
#include "catalogd/http/data_client.h"
#include "catalogd/store/catalog_reader.h"
#include "home_test_util.h"
#include "importers/dir_importer.h"
#include "volume_test_util.h"

namespace recall::daemon {
namespace {

constexpr std::uint32_t kOwner = 4242;  // owns the private file; no account needed
constexpr std::uint32_t kOther = 4343;

class DataApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, and opening as other uids)";
    home_ = tmp_.path() + "/home";
    src_ = tmp_.path() + "/src";
    paths_ = paths_for(home_);
    ASSERT_TRUE(ensure_home_dir(paths_).ok());
    auto prepared = prepare_home(paths_);
    ASSERT_TRUE(prepared.ok()) << prepared.error().message;
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    write(src_ + "/public", "anyone may read this\n", 0644);
    write(src_ + "/secret", "only its owner may read this\n", 0600);
    ASSERT_EQ(::chown((src_ + "/secret").c_str(), kOwner, kOwner), 0);
    write(src_ + "/empty", "", 0644);
    big_ = testing::random_bytes(600'000, 7);
    write(src_ + "/big", std::string(big_.begin(), big_.end()), 0644);
    ASSERT_EQ(::mkdir((src_ + "/closed").c_str(), 0700), 0);
    write(src_ + "/closed/inner", "below a closed directory\n", 0644);
    import(1000);
    api_ = std::make_unique<Api>(paths_, ApiConfig{});
  }

  void write(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path, std::ios::binary) << text;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }

  void import(UnixTime at) { testing::import_tree(paths_, "h", src_, at); }

  // The id of the version of `path` (relative to the root, "a/b") in the host's newest point.
  std::int64_t version_of(const std::string& path) {
    auto db = store::Db::open(paths_.catalog, false, true);
    EXPECT_TRUE(db.ok());
    store::CatalogReader r(**db);
    auto h = r.host("h");
    EXPECT_TRUE(h.ok() && h->has_value());
    std::int64_t seq = (*h)->points;
    auto v = r.version_at((*h)->root_node, seq);
    std::string rest = path;
    while (!rest.empty()) {
      auto slash = rest.find('/');
      std::string name = rest.substr(0, slash);
      rest = slash == std::string::npos ? "" : rest.substr(slash + 1);
      auto child = r.child_at(v.ok() && *v ? (*v)->node_id : 0, name, seq);
      EXPECT_TRUE(child.ok() && child->has_value()) << path;
      if (!child.ok() || !*child) return 0;
      v = std::optional<store::VersionRow>((*child)->version);
    }
    return v.ok() && *v ? (*v)->id : 0;
  }

  Result<std::pair<nlohmann::json, UniqueFd>> request(std::uint32_t uid, const nlohmann::json& request) {
    return api_->handle_data(HttpServer::Caller{::getpid(), uid, uid}, request, {});
  }
  Result<std::pair<nlohmann::json, UniqueFd>> open(std::uint32_t uid, const std::string& path,
                                                   bool nonblock = false) {
    return request(uid, {{"op", "open"}, {"version", version_of(path)}, {"nonblock", nonblock}});
  }
  static std::string text_of(const UniqueFd& fd) {
    auto b = testing::read_whole(fd.get());
    return std::string(b.begin(), b.end());
  }

  void set_volumes(const char* state) {
    auto db = store::Db::open(paths_.catalog, false, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec(std::string("UPDATE volumes SET state = '") + state + "'").ok());
  }

  testing::CatalogTempDir tmp_;
  std::string home_, src_;
  DaemonPaths paths_;
  std::vector<std::uint8_t> big_;
  std::unique_ptr<Api> api_;
};

TEST_F(DataApiTest, RootMayOpenAnything) {
  auto r = open(0, "secret");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(text_of(r->second), "only its owner may read this\n");
  EXPECT_EQ(r->first["size"], 29);
  EXPECT_EQ(r->first["sha256"], to_hex(sha256(std::string_view("only its owner may read this\n"))));
  auto big = open(0, "big");
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(testing::read_whole(big->second.get()), big_);
  auto empty = open(0, "empty");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(text_of(empty->second), "");
  EXPECT_EQ(empty->first["size"], 0);
}

TEST_F(DataApiTest, OthersBySameRuleAsEverythingElse) {
  auto denied = open(kOther, "secret");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().kind, ErrorKind::Denied);
  EXPECT_EQ(denied.error().message.find("secret"), std::string::npos) << "no path to who may not see it";
  auto owner = open(kOwner, "secret");
  ASSERT_TRUE(owner.ok()) << owner.error().message;
  EXPECT_EQ(text_of(owner->second), "only its owner may read this\n");
  auto pub = open(kOther, "public");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(text_of(pub->second), "anyone may read this\n");
  // Readable itself, but below a directory only root could enter.
  auto inner = open(kOther, "closed/inner");
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().kind, ErrorKind::Denied);
}

TEST_F(DataApiTest, AVersionReachableOnlyInALaterPointMayBeOpened) {
  std::int64_t inner = version_of("closed/inner");
  ASSERT_EQ(::chmod((src_ + "/closed").c_str(), 0755), 0);
  import(2000);
  ASSERT_EQ(version_of("closed/inner"), inner);  // unchanged: the same version, now reachable
  auto r = request(kOther, {{"op", "open"}, {"version", inner}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(text_of(r->second), "below a closed directory\n");
}

TEST_F(DataApiTest, BadRequests) {
  auto expect = [&](const nlohmann::json& req, ErrorKind kind) {
    auto r = this->request(0, req);
    ASSERT_FALSE(r.ok()) << req.dump();
    EXPECT_EQ(r.error().kind, kind) << req.dump() << ": " << r.error().message;
  };
  expect({{"op", "open"}}, ErrorKind::Invalid);
  expect({{"op", "delete"}, {"version", 1}}, ErrorKind::Invalid);
  expect({{"version", 1}}, ErrorKind::Invalid);
  expect({{"op", "open"}, {"version", "1"}}, ErrorKind::Invalid);
  expect({{"op", "open"}, {"version", version_of("public")}, {"nonblock", "yes"}}, ErrorKind::Invalid);
  expect({{"op", "open"}, {"version", 999999}}, ErrorKind::NotFound);
  expect({{"op", "open"}, {"version", version_of("closed")}}, ErrorKind::Invalid);  // a directory
}

TEST_F(DataApiTest, NonblockNeverWaitsForAVolumeButServesAStagedCopy) {
  auto staged = open(kOther, "public", /*nonblock=*/true);
  ASSERT_TRUE(staged.ok()) << staged.error().message;
  set_volumes("offline");
  auto big = open(kOther, "big", true);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, ErrorKind::Offline);
  EXPECT_NE(big.error().message.find("D"), std::string::npos) << big.error().message;
  auto blocking = open(kOther, "big", false);
  ASSERT_FALSE(blocking.ok());
  EXPECT_EQ(blocking.error().kind, ErrorKind::Offline);
  auto again = open(kOther, "public", true);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(text_of(again->second), "anyone may read this\n");
  set_volumes("online");
  auto now = open(kOther, "big", true);
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_EQ(testing::read_whole(now->second.get()), big_);
}

TEST_F(DataApiTest, ThroughTheDataSocket) {
  DataServer::Options o;
  o.socket_path = data_socket_path(paths_);
  DataServer server(o, [this](const auto& caller, const auto& request, const auto& cancelled) {
    return api_->handle_data(caller, request, cancelled);
  });
  ASSERT_TRUE(server.start().ok());
  DataClient client(o.socket_path);
  auto r = client.call({{"op", "open"}, {"version", version_of("secret")}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body["fd"], true);
  EXPECT_EQ(text_of(r->fd), "only its owner may read this\n");
  auto missing = client.call({{"op", "open"}, {"version", 999999}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

TEST_F(DataApiTest, WhoamiNamesTheDataSocket) {
  HttpServer::Request req{boost::beast::http::verb::get, "/v1/whoami", 11};
  MemoryResponder out;
  api_->handle(req, HttpServer::Caller{::getpid(), 0, 0}, out);
  EXPECT_EQ(out.json()["data_socket"], home_ + "/recalld-data.sock");
}

}  // namespace
}  // namespace recall::daemon
