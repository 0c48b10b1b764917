// recalld: the catalog daemon. Wires the pieces; the logic lives in the libraries.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "catalogd/daemon/api.h"
#include "catalogd/daemon/data_server.h"
#include "catalogd/daemon/startup.h"
#include "catalogd/http/daemon_lock.h"
#include "common/fd_limit.h"

int main(int argc, char** argv) {
  using namespace recall;
  CLI::App app{
      "recalld: the Recall catalog daemon. Serves the catalog in HOME over HOME/recalld.sock\n"
      "to the recall CLI, recall-fs and recall-browser; runs imports as jobs."};
  std::string home;
  daemon::ApiConfig config;
  app.add_option("--home", home, "state directory: catalog, disk pool, socket")->required();
  app.add_option("--admin-group", config.admin_group, "members of this group may import (root always may)")
      ->capture_default_str();
  app.add_option("--stage-cache-mb", config.stage_cache_mb,
                 "MiB of staged copies kept in HOME/stage for recall-fs (bigger files: staged, not kept)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (home.empty() || home.front() != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) home = std::string(cwd) + "/" + home;
  }

  block_termination_signals();
  auto paths = daemon::paths_for(home);
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "recalld: %s\n", e.message.c_str());
    return 1;
  };
  if (auto s = daemon::ensure_home_dir(paths); !s.ok()) return fail(s.error());
  auto lock = DaemonLock::acquire(home);
  if (!lock.ok()) return fail(lock.error());
  if (auto s = daemon::prepare_home(paths); !s.ok()) return fail(s.error());
  auto orphans = daemon::set_aside_orphan_volumes(paths);
  if (!orphans.ok()) return fail(orphans.error());
  for (const auto& o : *orphans)
    std::fprintf(stderr,
                 "recalld: volume %s was left by an import that did not finish; moved to %s/orphans/\n",
                 o.c_str(), home.c_str());

  // Each kept staged copy holds a descriptor: keep a quarter of the limit for them.
  config.stage_max_files = std::clamp<std::uint64_t>(raise_fd_limit() / 4, 64, 65536);
  daemon::Api api(paths, config);
  HttpServer::Options opts;
  opts.socket_path = paths.socket;
  opts.log = [](std::string_view m) {
    std::fprintf(stderr, "recalld: %.*s\n", static_cast<int>(m.size()), m.data());
  };
  HttpServer server(opts, [&api](const HttpServer::Request& rq, const HttpServer::Caller& c, Responder& r) {
    api.handle(rq, c, r);
  });
  if (auto s = server.start(); !s.ok()) return fail(s.error());
  daemon::DataServer::Options data_opts;
  data_opts.socket_path = daemon::data_socket_path(paths);
  data_opts.log = opts.log;
  daemon::DataServer data_server(data_opts, [&api](const auto& c, const auto& rq, const auto& cancelled) {
    return api.handle_data(c, rq, cancelled);
  });
  if (auto s = data_server.start(); !s.ok()) return fail(s.error());
  std::fprintf(stderr, "recalld: serving %s on %s and %s (pid %d)\n", home.c_str(), paths.socket.c_str(),
               data_opts.socket_path.c_str(), getpid());
  int sig = wait_for_termination_signal();
  std::fprintf(stderr, "recalld: signal %d, shutting down\n", sig);
  api.jobs().cancel_all();
  data_server.stop();
  server.stop();
  return 0;
}
