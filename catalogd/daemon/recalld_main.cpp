// recalld: the catalog daemon. Wires the pieces; the logic lives in the libraries.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "catalogd/daemon/api.h"
#include "catalogd/daemon/data_server.h"
#include "catalogd/daemon/migration_policy.h"
#include "catalogd/daemon/startup.h"
#include "catalogd/http/daemon_lock.h"
#include "common/fd_limit.h"

int main(int argc, char** argv) {
  using namespace recall;
  CLI::App app{
      "recalld: the Recall catalog daemon. Serves the catalog in HOME over HOME/recalld.sock\n"
      "to the recall CLI, recall-fs and recall-browser; runs imports and migrations as jobs; drives\n"
      "the tape library (simulated under HOME/tape by default) and stages data from it on demand."};
  std::string home;
  daemon::ApiConfig config;
  daemon::TapeConfig tape;
  std::size_t max_connections = 256;
  std::uint64_t capacity_mb = tape.library.timing.capacity_bytes >> 20;
  std::string migrate_older_than;
  daemon::MigrationPolicyConfig policy;
  std::uint64_t pool_capacity_mb = 0, migrate_every_s = 300;
  app.add_option("--home", home, "state directory: catalog, disk pool, tape library, socket")->required();
  app.add_option("--admin-group", config.admin_group, "members of this group may import (root always may)")
      ->capture_default_str();
  app.add_option("--stage-cache-mb", config.stage_cache_mb,
                 "MiB of staged copies kept in HOME/stage for recall-fs (bigger files: staged, not kept)")
      ->capture_default_str();
  app.add_option("--max-connections", max_connections, "API connections served at once (one thread each)")
      ->capture_default_str();
  auto* t = app.add_option_group("Tape library", "the simulated library under HOME/tape");
  t->add_option("--tape-drives", tape.library.drives, "drives of a new library")->capture_default_str();
  t->add_option("--tape-slots", tape.library.slots, "slots of a new library")->capture_default_str();
  t->add_option("--tape-cartridges", tape.library.cartridges, "scratch cartridges a new library starts with")
      ->capture_default_str();
  t->add_option("--tape-capacity-mb", capacity_mb,
                "capacity of each cartridge of a new library (LTO-8: 12 TB)")
      ->capture_default_str();
  t->add_option("--tape-time-scale", tape.time_scale,
                "real seconds per second of tape time: 1 is an LTO-8 library's pace, 0 does not wait")
      ->capture_default_str();
  t->add_option("--tape-scheduler", tape.scheduler, "how staging is planned: recall, or fcfs (a baseline)")
      ->check(CLI::IsMember({"recall", "fcfs"}))
      ->capture_default_str();
  t->add_option("--tape-cache-mb", tape.cache_mb, "MiB of chunks staged from tape kept in HOME/tape/cache")
      ->capture_default_str();
  t->add_option("--tape-max-requests", tape.scheduling.max_requests_per_user,
                "staging requests one user may have waiting")
      ->capture_default_str();
  auto* m =
      app.add_option_group("Migration policy", "move disk volumes to tape by themselves (off by default)");
  m->add_option("--migrate-older-than", migrate_older_than,
                "disk volumes written longer ago than this (30d, 12h)");
  m->add_option("--migrate-pool-above", policy.pool_above,
                "when the disk pool is fuller than this percent...");
  m->add_option("--migrate-pool-below", policy.pool_below, "...the oldest volumes until it is this full");
  m->add_option("--pool-capacity-mb", pool_capacity_mb,
                "what the pool may hold (default: its filesystem's size)");
  m->add_option("--migrate-copies", policy.copies, "tape copies to make (1 or 2)")->capture_default_str();
  m->add_option("--migrate-every", migrate_every_s, "seconds between checks")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (home.empty() || home.front() != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) home = std::string(cwd) + "/" + home;
  }
  tape.library.timing.capacity_bytes = capacity_mb << 20;
  policy.pool_capacity = pool_capacity_mb << 20;
  policy.every = std::chrono::seconds(std::max<std::uint64_t>(1, migrate_every_s));
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "recalld: %s\n", e.message.c_str());
    return 1;
  };
  if (!migrate_older_than.empty()) {
    auto age = parse_duration(migrate_older_than);
    if (!age.ok()) return fail(age.error());
    policy.older_than_s = *age;
  }

  block_termination_signals();
  auto paths = daemon::paths_for(home);
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
  auto library = daemon::TapeService::open(home, tape);
  if (!library.ok()) return fail(library.error());
  auto settled = daemon::settle_volumes(paths, library->get());
  if (!settled.ok()) return fail(settled.error());
  for (const auto& s : *settled) std::fprintf(stderr, "recalld: %s\n", s.c_str());

  // Each kept staged copy holds a descriptor: keep a quarter of the limit for them.
  config.stage_max_files = std::clamp<std::uint64_t>(raise_fd_limit() / 4, 64, 65536);
  daemon::Api api(paths, config, std::move(*library));
  HttpServer::Options opts;
  opts.socket_path = paths.socket;
  opts.max_connections = max_connections;
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
  daemon::MigrationPolicy migration_policy(api.jobs(), paths.catalog, paths.pool, policy);
  migration_policy.start();
  const auto& lc = api.tape()->library().config();
  std::fprintf(
      stderr,
      "recalld: tape library of %zu drives, %zu slots, %zu cartridges (%s), time scale %g, %s scheduler\n",
      lc.drives, lc.slots, api.tape()->library().cartridges().size(), lc.timing.media.c_str(),
      tape.time_scale, tape.scheduler.c_str());
  std::fprintf(stderr, "recalld: serving %s on %s and %s (pid %d)\n", home.c_str(), paths.socket.c_str(),
               data_opts.socket_path.c_str(), getpid());
  int sig = wait_for_termination_signal();
  std::fprintf(stderr, "recalld: signal %d, shutting down\n", sig);
  migration_policy.stop();
  api.jobs().cancel_all();
  data_server.stop();
  server.stop();
  return 0;
}
