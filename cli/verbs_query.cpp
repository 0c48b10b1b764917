// Listing verbs: hosts, points, ls, search, versions, status.
#include <cstdio>
#include <iostream>

#include "cli/output.h"
#include "cli/verbs.h"
#include "common/paths.h"

namespace recall::cli {
namespace {

std::string time_of(const nlohmann::json& e) {
  std::string t = e.value("mtime", "");
  return t.size() >= 16 ? t.substr(0, 10) + " " + t.substr(11, 5) : t;
}

void print_long(const nlohmann::json& e, const std::string& name) {
  if (!e.contains("mode")) {
    std::printf("%s  %s\n", mode_string(e).c_str(), name.c_str());
    return;
  }
  std::string line = mode_string(e);
  char buf[256];
  std::snprintf(buf, sizeof buf, " %3u %-8s %-8s %10s %s ", e.value("nlink", 1u), e.value("user", "").c_str(),
                e.value("group", "").c_str(), human_size(e.value("size", 0ull)).c_str(), time_of(e).c_str());
  line += buf;
  line += name;
  if (e.contains("target")) line += " -> " + shown(e, "target");
  std::printf("%s\n", line.c_str());
}

}  // namespace

void add_query_verbs(CLI::App& app, Context& ctx, Action& action) {
  auto* hosts = app.add_subcommand("hosts", "List the hosts in the catalog with their points");
  hosts->callback([&] {
    action = [&]() -> int {
      auto r = ctx.api().get("/v1/hosts");
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      std::printf("%-24s %6s  %-20s  %-20s\n", "HOST", "POINTS", "FIRST", "LATEST");
      for (const auto& h : (*r)["hosts"])
        std::printf("%-24s %6lld  %-20s  %-20s\n", h["name"].get<std::string>().c_str(),
                    h["points"].get<long long>(), h["first"].get<std::string>().c_str(),
                    h["latest"].get<std::string>().c_str());
      return 0;
    };
  });

  static std::string host, at = "latest", path = "/", query, type;
  static std::size_t limit = 50, offset = 0;
  static std::string after, before, min_size, max_size, sort, order;
  auto* points = app.add_subcommand("points", "List the points in time of a host");
  points->add_option("--host", host, "host name")->required();
  points->callback([&] {
    action = [&]() -> int {
      auto r = ctx.api().get(target("/v1/points", {{"host", host}}));
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      std::printf("%-22s %-12s %s\n", "POINT", "KIND", "IMPORTER");
      for (const auto& p : (*r)["points"])
        std::printf("%-22s %-12s %s\n", p["at"].get<std::string>().c_str(),
                    p["kind"].get<std::string>().c_str(), p["importer"].get<std::string>().c_str());
      return 0;
    };
  });

  auto* ls = app.add_subcommand("ls", "List a directory as it was at a point in time");
  ls->add_option("--host", host, "host name")->required();
  ls->add_option("--at", at, "ISO 8601 time or 'latest': the newest point at or before it")
      ->capture_default_str();
  ls->add_option("PATH", path, "absolute path on the host")->capture_default_str();
  ls->callback([&] {
    action = [&]() -> int {
      auto r = ctx.api().get(target("/v1/ls", {{"host", host}, {"at", at}, {"path", path}}));
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      for (const auto& e : (*r)["entries"]) print_long(e, shown(e, "name"));
      return 0;
    };
  });

  auto* search = app.add_subcommand("search", "Find files by name (any part of it, or a glob like '*.odt')");
  search->add_option("QUERY", query, "text to find in file names; 'dir/name' also matches the path")
      ->required();
  search->add_option("--host", host, "only this host");
  search->add_option("--type", type, "only this type: file, dir, symlink");
  search->add_option("--limit", limit, "results per page")->capture_default_str();
  search->add_option("--offset", offset, "skip this many results (paging)")->capture_default_str();
  search->add_option("--after", after, "only versions in a point at or after TIME (ISO 8601)");
  search->add_option("--before", before,
                     "only versions in a point at or before TIME; hits name the newest such point");
  search->add_option("--min-size", min_size, "only files of at least this many bytes");
  search->add_option("--max-size", max_size, "only files of at most this many bytes");
  search->add_option("--sort", sort, "rank (default), name, folder, host, at, size or modified");
  search->add_option("--order", order, "asc or desc (with --sort)");
  search->callback([&] {
    action = [&]() -> int {
      auto r = ctx.api().get(target("/v1/search", {{"q", query},
                                                   {"host", host},
                                                   {"type", type},
                                                   {"after", after},
                                                   {"before", before},
                                                   {"min_size", min_size},
                                                   {"max_size", max_size},
                                                   {"sort", sort},
                                                   {"order", order},
                                                   {"limit", std::to_string(limit)},
                                                   {"offset", std::to_string(offset)}}));
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      const auto& res = (*r)["results"];
      for (const auto& h : res)
        std::printf("%-12s %s  %10s  %s\n", h["host"].get<std::string>().c_str(),
                    h["at"].get<std::string>().c_str(), human_size(h.value("size", 0ull)).c_str(),
                    shown(h, "path").c_str());
      std::size_t total = (*r)["total"].get<std::size_t>();
      std::fprintf(stderr, "%zu-%zu of %s%zu match%s\n", res.empty() ? 0 : offset + 1, offset + res.size(),
                   (*r)["total_is_estimate"].get<bool>() ? "about " : "", total, total == 1 ? "" : "es");
      return 0;
    };
  });

  auto* versions = app.add_subcommand("versions", "Show every distinct version of a file across all points");
  versions->add_option("--host", host, "host name")->required();
  versions->add_option("PATH", path, "absolute path on the host")->required();
  versions->callback([&] {
    action = [&]() -> int {
      auto r = ctx.api().get(target("/v1/versions", {{"host", host}, {"path", path}}));
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      std::printf("%-20s  %-20s  %10s  %-16s  %-12s\n", "FIRST SEEN", "LAST SEEN", "SIZE", "MODIFIED",
                  "SHA-256");
      for (const auto& v : (*r)["versions"])
        std::printf("%-20s  %-20s  %10s  %-16s  %-12s%s\n", v["first_seen"].get<std::string>().c_str(),
                    v["current"].get<bool>() ? "(current)" : v["last_seen"].get<std::string>().c_str(),
                    human_size(v.value("size", 0ull)).c_str(), time_of(v).c_str(),
                    v.value("sha256", "").substr(0, 12).c_str(),
                    v.contains("unavailable")
                        ? ("  not readable: " + v["unavailable"].get<std::string>()).c_str()
                        : "");
      return 0;
    };
  });

  auto* status = app.add_subcommand("status", "Show the daemon, the catalog and running jobs");
  status->callback([&] {
    action = [&]() -> int {
      auto r = ctx.api().get("/v1/status");
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      const auto& c = (*r)["catalog"];
      std::printf("recalld %s on %s, up since %s\n", (*r)["version"].get<std::string>().c_str(),
                  (*r)["home"].get<std::string>().c_str(), (*r)["started"].get<std::string>().c_str());
      std::printf("you: %s (uid %u)%s\n", (*r)["you"]["user"].get<std::string>().c_str(),
                  (*r)["you"]["uid"].get<unsigned>(), (*r)["you"]["admin"].get<bool>() ? ", admin" : "");
      std::printf("catalog: %lld hosts, %lld points, %lld versions of %lld paths\n",
                  c["hosts"].get<long long>(), c["points"].get<long long>(), c["versions"].get<long long>(),
                  c["paths"].get<long long>());
      std::printf("data: %s in %lld files, %s unique, %s stored in %lld volumes\n",
                  human_size(c["content_bytes"].get<std::uint64_t>()).c_str(), c["contents"].get<long long>(),
                  human_size(c["chunk_bytes"].get<std::uint64_t>()).c_str(),
                  human_size(c["stored_bytes"].get<std::uint64_t>()).c_str(), c["volumes"].get<long long>());
      for (const auto& j : (*r)["jobs"])
        std::printf("job %llu: %s %s %s — %s\n", j["id"].get<unsigned long long>(),
                    j["kind"].get<std::string>().c_str(), j["host"].get<std::string>().c_str(),
                    shown(j, "source").c_str(), j["state"].get<std::string>().c_str());
      for (const auto& s : (*r)["recent_sets"])
        std::printf("set: %-12s %-10s %-12s %s %s\n", s["host"].get<std::string>().c_str(),
                    s["status"].get<std::string>().c_str(), s["kind"].get<std::string>().c_str(),
                    s["point"].get<std::string>().c_str(), shown(s, "source").c_str());
      return 0;
    };
  });
}

}  // namespace recall::cli
