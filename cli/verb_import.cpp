// `recall import dir|tar|manifest|restic`: starts an import job in recalld and follows it. Ctrl-C cancels the
// job, and the catalog stays exactly as it was.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include "catalogd/http/http_errors.h"
#include "cli/job_follow.h"
#include "cli/output.h"
#include "cli/verbs.h"
#include "common/paths.h"
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
      std::printf("    %s: %s\n", one_line(s["path"].get<std::string>()).c_str(),
                  one_line(s["reason"].get<std::string>()).c_str());
  }
  for (const auto& w : rep["warnings"])
    std::printf("  warning   %s\n", one_line(w.get<std::string>()).c_str());
}

void print_tar_summary(const nlohmann::json& rep) {
  if (rep.value("already_imported", false)) {
    std::printf("%s: already imported (volume %s, point %s); nothing to do\n",
                rep["archive"].get<std::string>().c_str(), rep["volser"].get<std::string>().c_str(),
                rep["already_as"].get<std::string>().c_str());
    return;
  }
  std::printf("point %s of %s (%s, #%lld) recorded from %s in %.1f s\n", rep["at"].get<std::string>().c_str(),
              rep["host"].get<std::string>().c_str(), rep["kind"].get<std::string>().c_str(),
              rep["seq"].get<long long>(), rep["archive"].get<std::string>().c_str(),
              rep["seconds"].get<double>());
  std::printf("  members   %llu; %llu entries in the point: %llu new or changed, %llu unchanged, %llu gone\n",
              rep["members"].get<unsigned long long>(), rep["entries"].get<unsigned long long>(),
              rep["changed"].get<unsigned long long>(), rep["unchanged"].get<unsigned long long>(),
              rep["deleted"].get<unsigned long long>());
  if (rep["in_place"].get<bool>())
    std::printf("  data      %s of files, read in place from the archive (volume %s): %s not seen before\n",
                human_size(rep["bytes_total"]).c_str(), rep["volser"].get<std::string>().c_str(),
                human_size(rep["referenced_bytes"]).c_str());
  else
    std::printf(
        "  data      %s of files from a %s archive, %s stored in the disk pool after dedup and compression\n",
        human_size(rep["bytes_total"]).c_str(), rep["compression"].get<std::string>().c_str(),
        human_size(rep["stored_bytes"]).c_str());
  for (const auto& w : rep["warnings"])
    std::printf("  warning   %s\n", one_line(w.get<std::string>()).c_str());
}

// The progress line of an import that reads one file from start to end (an archive, a manifest).
std::function<std::string(const nlohmann::json&, double)> reading_line(const std::string& name) {
  return [name](const nlohmann::json& st, double secs) {
    const auto& p = st["progress"];
    std::uint64_t read = p["bytes_read"], total = p["bytes_total"];
    char line[512];
    std::snprintf(line, sizeof line, "%s  %s  %3.0f%%  %s of %s  %llu entries  %s",
                  st["state"] == "queued" ? "waiting for another import" : "reading", name.c_str(),
                  total ? 100.0 * static_cast<double>(read) / static_cast<double>(total) : 0.0,
                  human_size(read).c_str(), human_size(total).c_str(), p["entries"].get<unsigned long long>(),
                  rate(read, secs).c_str());
    return std::string(line);
  };
}

void print_manifest_summary(const nlohmann::json& rep) {
  if (rep.value("already_imported", false)) {
    std::printf("%s: already imported (%s); nothing to do\n", rep["manifest"].get<std::string>().c_str(),
                rep["already_as"].get<std::string>().c_str());
    return;
  }
  std::printf("%zu set(s) of %s recorded in %.1f s\n", rep["sets"].size(),
              rep["manifest"].get<std::string>().c_str(), rep["seconds"].get<double>());
  for (const auto& s : rep["sets"])
    std::printf(
        "  %-12s point %s of %s (%s, #%lld): %llu entries, %llu changed, %llu gone; %llu of %llu files "
        "readable\n",
        s["set"].get<std::string>().c_str(), s["at"].get<std::string>().c_str(),
        s["host"].get<std::string>().c_str(), s["kind"].get<std::string>().c_str(), s["seq"].get<long long>(),
        s["entries"].get<unsigned long long>(), s["changed"].get<unsigned long long>(),
        s["deleted"].get<unsigned long long>(), s["available"].get<unsigned long long>(),
        s["files"].get<unsigned long long>());
  if (rep["unavailable"].get<std::uint64_t>() > 0) {
    std::printf("  %llu file(s) are listed but their bytes are not available, e.g.:\n",
                rep["unavailable"].get<unsigned long long>());
    for (const auto& e : rep["unavailable_examples"])
      std::printf("    %s (set %s): %s\n", one_line(e["path"].get<std::string>()).c_str(),
                  e["set"].get<std::string>().c_str(), one_line(e["reason"].get<std::string>()).c_str());
  }
  for (const auto& w : rep["warnings"])
    std::printf("  warning   %s\n", one_line(w.get<std::string>()).c_str());
}

void add_manifest_verb(CLI::App* imp, Context& ctx, Action& action) {
  auto* man = imp->add_subcommand(
      "manifest", "Record the backup sets of a Recall manifest (JSON Lines from another product) as points");
  static std::string file;
  man->add_option("FILE", file, "the manifest (.jsonl, or compressed: .gz .xz .zst)")->required();
  man->footer(
      "The format is in docs/importers.md. The whole manifest is one transaction. A file whose bytes\n"
      "Recall cannot read (a volume it does not know) is listed and marked unavailable, with the reason.");
  man->callback([&] {
    action = [&]() -> int {
      char resolved[PATH_MAX];
      if (!realpath(file.c_str(), resolved)) return report(io_error("cannot import " + file, errno));
      auto started = ctx.api().post("/v1/imports", {{"kind", "manifest"}, {"path", resolved}});
      if (!started.ok()) return report(started.error());
      auto done = follow_job(ctx, (*started)["id"].get<std::uint64_t>(), reading_line(file),
                             "; the catalog is unchanged");
      if (!done.ok()) return report(done.error());
      if (ctx.json) return print_json(*done), 0;
      print_manifest_summary((*done)["report"]);
      return 0;
    };
  });
}

void add_tar_verb(CLI::App* imp, Context& ctx, Action& action) {
  auto* tar = imp->add_subcommand(
      "tar", "Record tar archives (ustar, pax, GNU; plain or compressed) as points of a host, in order");
  static std::string host, prefix = "/";
  static std::vector<std::string> ats, archives;
  static int level = 3;
  tar->add_option("--host", host, "the host the archives belong to")->required();
  tar->add_option("--at", ats,
                  "time of the point (ISO 8601); once per archive, in order (default: each archive file's "
                  "modification time)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  tar->add_option("--prefix", prefix, "where members go in the point: data/x becomes PREFIX/data/x")
      ->capture_default_str();
  tar->add_option("--zstd-level", level,
                  "compression level for data stored in the pool (compressed archives)")
      ->capture_default_str();
  tar->add_option("ARCHIVE", archives,
                  "archives to import; a GNU --listed-incremental chain in level order (0, 1, 2...)")
      ->required();
  tar->footer(
      "Uncompressed archives are read in place: keep them where they are. Each archive becomes one point,\n"
      "atomically; an archive imported before is noticed and skipped.");
  tar->callback([&] {
    action = [&]() -> int {
      if (!ats.empty() && ats.size() != archives.size())
        return report(make_error(ErrorKind::Invalid, "give --at once per archive (" +
                                                         std::to_string(archives.size()) + " archives, " +
                                                         std::to_string(ats.size()) + " --at)"));
      nlohmann::json results = nlohmann::json::array();
      for (std::size_t i = 0; i < archives.size(); ++i) {
        char resolved[PATH_MAX];
        if (!realpath(archives[i].c_str(), resolved))
          return report(io_error("cannot import " + archives[i], errno));
        nlohmann::json body = {
            {"kind", "tar"}, {"host", host}, {"path", resolved}, {"prefix", prefix}, {"zstd_level", level}};
        if (!ats.empty()) {
          auto t = parse_time(ats[i]);
          if (!t.ok()) return report(t.error());
          body["at"] = format_utc(*t);
        }
        auto started = ctx.api().post("/v1/imports", body);
        if (!started.ok()) return report(started.error());
        auto done = follow_job(ctx, (*started)["id"].get<std::uint64_t>(), reading_line(archives[i]),
                               "; the catalog is unchanged");
        if (!done.ok()) {
          if (i > 0)
            return report(make_error(done.error().kind, done.error().message + " (the " + std::to_string(i) +
                                                            " archive(s) before it were imported)"));
          return report(done.error());
        }
        if (ctx.json)
          results.push_back(*done);
        else
          print_tar_summary((*done)["report"]);
      }
      if (ctx.json) print_json({{"imports", results}});
      return 0;
    };
  });
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
  add_tar_verb(imp, ctx, action);
  add_manifest_verb(imp, ctx, action);
  add_restic_verb(imp, ctx, action);
}

}  // namespace recall::cli
