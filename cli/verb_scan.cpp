// `recall scan VOLUME...`: rebuilds catalog entries from Recall's own disk-pool volumes (their
// chunk blocks and the point records every import writes), for the day the catalog is lost.
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "cli/job_follow.h"
#include "cli/output.h"
#include "cli/verbs.h"
#include "common/paths.h"

namespace recall::cli {
namespace {

void print_scan_summary(const nlohmann::json& rep) {
  std::printf("scanned %zu volume(s) in %.1f s\n", rep["volumes"].size(), rep["seconds"].get<double>());
  for (const auto& v : rep["volumes"])
    std::printf("  %-8s  %s: %llu chunks (%llu new to the catalog), %llu point record part(s)%s\n",
                v["volser"].get<std::string>().c_str(), one_line(v["path"].get<std::string>()).c_str(),
                v["chunks"].get<unsigned long long>(), v["new_chunks"].get<unsigned long long>(),
                v["record_parts"].get<unsigned long long>(),
                v.value("known", false) ? " (known volume)" : "");
  for (const auto& p : rep["points"]) {
    std::printf("  rebuilt   point %s of %s (#%lld, %s %s): %llu entries, %llu files",
                p["at"].get<std::string>().c_str(), p["host"].get<std::string>().c_str(),
                p["seq"].get<long long>(), p["importer"].get<std::string>().c_str(),
                p["kind"].get<std::string>().c_str(), p["entries"].get<unsigned long long>(),
                p["files"].get<unsigned long long>());
    if (p["unavailable"].get<std::uint64_t>() > 0)
      std::printf(", %llu unavailable", p["unavailable"].get<unsigned long long>());
    std::printf("\n");
  }
  for (const auto& p : rep["already"])
    std::printf("  known     point %s of %s: in the catalog already\n", p["at"].get<std::string>().c_str(),
                p["host"].get<std::string>().c_str());
  for (const auto& p : rep["skipped"])
    std::printf("  skipped   point %s of %s: %s\n", p["at"].get<std::string>().c_str(),
                p["host"].get<std::string>().c_str(), one_line(p["reason"].get<std::string>()).c_str());
  for (const auto& w : rep["warnings"])
    std::printf("  warning   %s\n", one_line(w.get<std::string>()).c_str());
  if (rep["points"].empty() && rep["already"].empty())
    std::printf("  no point records found: these volumes hold chunks only\n");
}

}  // namespace

void add_scan_verb(CLI::App& app, Context& ctx, Action& action) {
  auto* scan =
      app.add_subcommand("scan", "Rebuild catalog entries from Recall's own volumes (a lost catalog)");
  static std::vector<std::string> volumes;
  static bool salvage = false;
  scan->add_option("VOLUME", volumes, "disk-pool volume files (HOME/pool/D000001.vol ...)")->required();
  scan->add_flag("--salvage", salvage,
                 "keep what a damaged volume holds before the damage (default: refuse the whole scan)");
  scan->footer(
      "Every chunk on the volumes is registered with its location, and every point record found\n"
      "(each import into the disk pool writes its point's record there) becomes its point again, in\n"
      "time order per host. Points and volumes the catalog has already are left alone, so scanning\n"
      "again is a no-op. One transaction: a scan that fails leaves the catalog as it was.\n"
      "After a lost catalog, recalld sets the pool's volumes aside in HOME/orphans/ at start:\n"
      "  recall scan HOME/orphans/*.vol        (see docs/importers.md, \"recall scan\")");
  scan->callback([&] {
    action = [&]() -> int {
      nlohmann::json paths = nlohmann::json::array();
      for (const auto& v : volumes) {
        char resolved[PATH_MAX];
        if (!realpath(v.c_str(), resolved)) return report(io_error("cannot scan " + v, errno));
        paths.push_back(resolved);
      }
      auto started =
          ctx.api().post("/v1/imports", {{"kind", "scan"}, {"volumes", paths}, {"salvage", salvage}});
      if (!started.ok()) return report(started.error());
      auto done = follow_job(
          ctx, (*started)["id"].get<std::uint64_t>(),
          [](const nlohmann::json& st, double secs) {
            const auto& p = st["progress"];
            std::uint64_t read = p["bytes_read"], total = p["bytes_total"];
            char line[256];
            std::snprintf(line, sizeof line, "%s  %3.0f%%  %s of %s  %llu chunks new  %llu entries  %s",
                          st["state"] == "queued" ? "waiting for another import" : "scanning",
                          total ? 100.0 * static_cast<double>(read) / static_cast<double>(total) : 0.0,
                          human_size(read).c_str(), human_size(total).c_str(),
                          p["new_chunks"].get<unsigned long long>(), p["entries"].get<unsigned long long>(),
                          rate(read, secs).c_str());
            return std::string(line);
          },
          "; the catalog is unchanged");
      if (!done.ok()) return report(done.error());
      if (ctx.json) return print_json(*done), 0;
      print_scan_summary((*done)["report"]);
      return 0;
    };
  });
}

}  // namespace recall::cli
