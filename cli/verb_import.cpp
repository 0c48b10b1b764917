// `recall import dir`: starts an import job in recalld and follows it. Ctrl-C cancels the
// job, and the catalog stays exactly as it was.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "catalogd/http/http_errors.h"
#include "cli/job_follow.h"
#include "cli/output.h"
#include "cli/verbs.h"
#include "common/time.h"

namespace recall::cli {
namespace {

void print_summary(const nlohmann::json& rep) {
  double secs = rep["seconds"].get<double>();
  std::printf("point %s of %s (%s, #%lld) recorded in %.1f s\n", rep["at"].get<std::string>().c_str(),
              rep["host"].get<std::string>().c_str(), rep["kind"].get<std::string>().c_str(),
              rep["seq"].get<long long>(), secs);
  std::printf(
      "  entries   %llu: %llu new or changed, %llu files unchanged (not read), %llu gone since the last "
      "point\n",
      rep["entries"].get<unsigned long long>(), rep["changed"].get<unsigned long long>(),
      rep["files_unchanged"].get<unsigned long long>(), rep["deleted"].get<unsigned long long>());
  std::uint64_t read = rep["bytes_read"], fresh = rep["new_bytes"], stored = rep["stored_bytes"];
  std::printf("  read      %s in %llu files (%s)\n", human_size(read).c_str(),
              rep["files_read"].get<unsigned long long>(), rate(read, secs).c_str());
  if (fresh == 0)
    std::printf("  new data  none: every chunk read was already stored\n");
  else
    std::printf("  new data  %s after dedup (%.2fx), %s stored after compression\n",
                human_size(fresh).c_str(), static_cast<double>(read) / static_cast<double>(fresh),
                human_size(stored).c_str());
  const auto& skipped = rep["skipped"];
  if (!skipped.empty()) {
    std::printf("  skipped   %zu (could not be read):\n", skipped.size());
    for (const auto& s : skipped)
      std::printf("    %s: %s\n", s["path"].get<std::string>().c_str(),
                  s["reason"].get<std::string>().c_str());
  }
  for (const auto& w : rep["warnings"]) std::printf("  warning   %s\n", w.get<std::string>().c_str());
}

}  // namespace

void add_import_verbs(CLI::App& app, Context& ctx, Action& action) {
  auto* imp = app.add_subcommand("import", "Import backups into the catalog (admins only)");
  imp->require_subcommand(1);
  auto* dir = imp->add_subcommand("dir", "Record a directory tree of this machine as a new point of a host");
  static std::string host, at, path, as;
  static bool cross = false;
  static int level = 3;
  dir->add_option("--host", host, "the host this tree belongs to")->required();
  dir->add_option("--at", at,
                  "time of the point (ISO 8601; default now); must be newer than the host's newest");
  dir->add_option("--as", as, "where the tree lived on the host, e.g. --as / for a snapshot mounted at PATH");
  dir->add_flag("--cross-filesystems", cross, "descend into other filesystems mounted below PATH");
  dir->add_option("--zstd-level", level, "compression level for new data")->capture_default_str();
  dir->add_option("PATH", path, "the directory to read")->required();
  dir->callback([&] {
    action = [&]() -> int {
      char resolved[PATH_MAX];
      std::string abs = realpath(path.c_str(), resolved) ? resolved : path;
      nlohmann::json body = {
          {"kind", "dir"},      {"host", host}, {"path", abs}, {"as", as}, {"cross_filesystems", cross},
          {"zstd_level", level}};
      if (!at.empty()) {
        auto t = parse_time(at);
        if (!t.ok()) return report(t.error());
        body["at"] = format_utc(*t);
      }
      auto started = ctx.api().post("/v1/imports", body);
      if (!started.ok()) return report(started.error());
      auto done = follow_job(
          ctx, (*started)["id"].get<std::uint64_t>(),
          [](const nlohmann::json& st, double secs) {
            const auto& p = st["progress"];
            std::uint64_t read = p["bytes_read"];
            char line[256];
            std::snprintf(line, sizeof line, "%s  %llu entries  %llu files read, %llu unchanged  %s  %s",
                          st["state"] == "queued" ? "waiting for another import" : "importing",
                          p["entries"].get<unsigned long long>(), p["files_read"].get<unsigned long long>(),
                          p["files_unchanged"].get<unsigned long long>(), human_size(read).c_str(),
                          rate(read, secs).c_str());
            return std::string(line);
          },
          "; the catalog is unchanged");
      if (!done.ok()) return report(done.error());
      if (ctx.json) return print_json(*done), 0;
      print_summary((*done)["report"]);
      return 0;
    };
  });
}

}  // namespace recall::cli
