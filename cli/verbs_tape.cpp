// The tape verbs: volumes (and check-out, check-in, evict), migrate, queue.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "cli/job_follow.h"
#include "cli/output.h"
#include "cli/verbs.h"
#include "common/paths.h"
#include "common/time.h"

namespace recall::cli {
namespace {

std::string sets_text(const nlohmann::json& sets) {
  std::string out;
  std::size_t n = 0;
  for (const auto& s : sets) {
    if (n++ == 3) break;
    out += (out.empty() ? "" : ", ") + s.value("host", "") + "@" + s.value("at", "");
  }
  if (sets.size() > 3) out += ", +" + std::to_string(sets.size() - 3) + " more";
  return out.empty() ? "-" : out;
}

std::string eta_text(double s) {
  if (s < 0) return "operator";
  if (s < 1) return "<1 s";
  if (s < 90) return std::to_string(std::lround(s)) + " s";
  if (s < 5400) return std::to_string(std::lround(s / 60)) + " min";
  return std::to_string(std::lround(s / 3600)) + " h";
}

std::string ordinal(std::size_t n) {
  if (n == 0) return "-";
  const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th"
                       : n % 10 == 1                    ? "st"
                       : n % 10 == 2                    ? "nd"
                       : n % 10 == 3                    ? "rd"
                                                        : "th";
  return std::to_string(n) + suffix;
}

void print_volumes(const nlohmann::json& r) {
  if (!r["library"].is_null()) {
    const auto& lib = r["library"];
    std::printf(
        "library: %zu drives, %zu slots (%zu free), %s cartridges of %s, %s scheduler, time scale %g\n",
        lib["drives"].get<std::size_t>(), lib["slots"].get<std::size_t>(),
        lib["free_slots"].get<std::size_t>(), lib["media"].get<std::string>().c_str(),
        human_size(lib["capacity_bytes"].get<std::uint64_t>()).c_str(),
        lib["scheduler"].get<std::string>().c_str(), lib["time_scale"].get<double>());
    std::printf("\n%-9s %-9s %-4s %-26s %10s %6s %8s  %s\n", "CARTRIDGE", "STATE", "COPY", "WHERE", "USED",
                "FILL", "CHUNKS", "BACKUP SETS");
    for (const auto& c : r["cartridges"]) {
      const int pool = c["pool"].get<int>();
      std::printf("%-9s %-9s %-4s %-26s %10s %5.1f%% %8lld  %s\n", c["volser"].get<std::string>().c_str(),
                  c["state"].get<std::string>().c_str(), pool ? std::to_string(pool).c_str() : "-",
                  c["where"].get<std::string>().c_str(),
                  human_size(c["bytes_used"].get<std::uint64_t>()).c_str(), 100 * c["fill"].get<double>(),
                  c["chunks"].get<long long>(), sets_text(c["sets"]).c_str());
    }
  }
  std::printf("\n%-11s %-8s %10s %8s  %s\n", "DISK VOLUME", "STATE", "SIZE", "CHUNKS", "BACKUP SETS");
  for (const auto& d : r["disk"])
    std::printf("%-11s %-8s %10s %8lld  %s\n", d["volser"].get<std::string>().c_str(),
                d["state"].get<std::string>().c_str(), human_size(d["bytes"].get<std::uint64_t>()).c_str(),
                d["chunks"].get<long long>(), sets_text(d["sets"]).c_str());
  if (r.contains("drives")) {
    std::printf("\n%-5s %-12s %-9s %7s %9s\n", "DRIVE", "ACTIVITY", "CARTRIDGE", "MOUNTS", "READ");
    for (const auto& d : r["drives"])
      std::printf("%-5zu %-12s %-9s %7llu %9s\n", d["drive"].get<std::size_t>(),
                  d["activity"].get<std::string>().c_str(),
                  d["cartridge"].get<std::string>().empty() ? "-" : d["cartridge"].get<std::string>().c_str(),
                  d["mounts"].get<unsigned long long>(),
                  human_size(d["records_read"].get<std::uint64_t>() * 256 * 1024).c_str());
  }
  for (const auto& o : r.value("operator_requests", nlohmann::json::array()))
    std::printf("\nOPERATOR: %s %s (raised %s): %s\n", o["action"].get<std::string>().c_str(),
                o["volser"].get<std::string>().c_str(), o["raised"].get<std::string>().c_str(),
                one_line(o["reason"].get<std::string>()).c_str());
}

void print_queue(const nlohmann::json& r) {
  for (const auto& o : r.value("operator_requests", nlohmann::json::array()))
    std::printf("OPERATOR: %s %s: %s\n", o["action"].get<std::string>().c_str(),
                o["volser"].get<std::string>().c_str(), one_line(o["reason"].get<std::string>()).c_str());
  const auto& reqs = r["requests"];
  if (reqs.empty()) {
    std::printf("no staging requests waiting");
    if (r.value("others", 0) > 0) std::printf(" of yours (%d of other users)", r.value("others", 0));
    std::printf("\n");
  } else {
    std::printf("%-5s %-12s %-11s %-20s %-9s %-5s %8s %13s  %s\n", "ID", "USER", "PRIORITY", "STATE",
                "CARTRIDGE", "PLACE", "ETA", "STAGED", "WHAT");
    for (const auto& q : reqs) {
      char staged[64];
      std::snprintf(staged, sizeof staged, "%zu/%zu", q["chunks_done"].get<std::size_t>(),
                    q["chunks"].get<std::size_t>());
      std::printf("%-5llu %-12s %-11s %-20s %-9s %-5s %8s %13s  %s\n", q["id"].get<unsigned long long>(),
                  q["user"].get<std::string>().c_str(), q["priority"].get<std::string>().c_str(),
                  q["state"].get<std::string>().c_str(),
                  q["cartridge"].get<std::string>().empty() ? "-" : q["cartridge"].get<std::string>().c_str(),
                  ordinal(q["position"].get<std::size_t>()).c_str(),
                  eta_text(q["eta_s"].get<double>()).c_str(), staged, q["what"].get<std::string>().c_str());
    }
    if (r.value("others", 0) > 0) std::printf("(and %d requests of other users)\n", r.value("others", 0));
  }
  if (r.contains("drives")) {
    std::printf("\n%-5s %-12s %-9s %s\n", "DRIVE", "ACTIVITY", "CARTRIDGE", "FOR");
    for (const auto& d : r["drives"])
      std::printf("%-5zu %-12s %-9s %s\n", d["drive"].get<std::size_t>(),
                  d["activity"].get<std::string>().c_str(),
                  d["cartridge"].get<std::string>().empty() ? "-" : d["cartridge"].get<std::string>().c_str(),
                  d["lent_to"].get<std::string>().c_str());
  }
}

void print_migration(const nlohmann::json& rep) {
  std::printf(
      "migrated %zu disk volumes to tape in %.1f s (%.0f s of tape time): %llu chunks, %s, %llu commits\n",
      rep["volumes"].size(), rep["seconds"].get<double>(), rep["model_seconds"].get<double>(),
      rep["chunks"].get<unsigned long long>(), human_size(rep["bytes"].get<std::uint64_t>()).c_str(),
      rep["commits"].get<unsigned long long>());
  std::string carts, evicted;
  for (const auto& c : rep["cartridges"]) carts += (carts.empty() ? "" : ", ") + c.get<std::string>();
  for (const auto& e : rep["evicted"]) evicted += (evicted.empty() ? "" : ", ") + e.get<std::string>();
  if (!carts.empty()) std::printf("  written to  %s\n", carts.c_str());
  std::printf("  disk pool   %s\n",
              evicted.empty() ? "kept (nothing evicted)" : ("evicted " + evicted).c_str());
  for (const auto& w : rep["warnings"])
    std::printf("  warning     %s\n", one_line(w.get<std::string>()).c_str());
}

}  // namespace

void add_tape_verbs(CLI::App& app, Context& ctx, Action& action) {
  static std::vector<std::string> volsers;
  static std::string note;
  static int copies = 1;

  auto* vols = app.add_subcommand("volumes", "List the tape cartridges and disk volumes (admins)");
  vols->callback([&, vols] {
    if (!vols->get_subcommands().empty()) return;
    action = [&]() -> int {
      auto r = ctx.api().get("/v1/volumes");
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      print_volumes(*r);
      return 0;
    };
  });
  auto post_volumes = [&](const std::string& route, nlohmann::json body, const char* key,
                          const char* verb_done) {
    return [&ctx, route, body, key, verb_done]() -> int {
      auto r = ctx.api().post(route, body);
      if (!r.ok()) return report(r.error());
      if (ctx.json) return print_json(*r), 0;
      for (const auto& v : (*r)[key])
        std::printf("%s %s\n", verb_done,
                    v.is_string() ? v.get<std::string>().c_str() : v["volser"].get<std::string>().c_str());
      if (r->contains("added"))
        for (const auto& v : (*r)["added"])
          std::printf("added new scratch cartridge %s\n", v.get<std::string>().c_str());
      return 0;
    };
  };
  auto* out = vols->add_subcommand("check-out",
                                   "Take cartridges out of the library (off-site); reads then wait for their "
                                   "other copy or for an operator");
  out->add_option("VOLSER", volsers, "cartridges")->required();
  out->add_option("--note", note, "where it goes (shown in recall volumes)");
  out->callback([&, post_volumes] {
    nlohmann::json body = {{"volsers", volsers}};
    if (!note.empty()) body["note"] = note;
    action = post_volumes("/v1/volumes/check-out", body, "checked_out", "checked out");
  });
  auto* in = vols->add_subcommand(
      "check-in", "Put cartridges back into the library; an unknown volser adds a new scratch cartridge");
  in->add_option("VOLSER", volsers, "cartridges")->required();
  in->callback([&, post_volumes] {
    action = post_volumes("/v1/volumes/check-in", {{"volsers", volsers}}, "checked_in", "checked in");
  });
  auto* evict = vols->add_subcommand(
      "evict", "Remove disk volumes from the pool whose chunks all have their copies on tape");
  evict->add_option("VOLSER", volsers, "disk volumes")->required();
  evict->add_option("--copies", copies, "tape copies every chunk must have first")->capture_default_str();
  evict->callback([&, post_volumes] {
    action =
        post_volumes("/v1/volumes/evict", {{"volsers", volsers}, {"copies", copies}}, "evicted", "evicted");
  });

  static std::string older_than;
  static double pool_above = -1, pool_below = -1;
  static std::uint64_t pool_capacity_mb = 0;
  static bool all = false, keep_disk = false;
  static std::size_t streams = 4;
  static std::uint64_t commit_mb = 256;
  auto* mig =
      app.add_subcommand("migrate", "Move disk volumes to tape (admins): copy, then evict from the pool");
  mig->add_option("VOLSER", volsers, "disk volumes to migrate");
  mig->add_flag("--all", all, "every disk volume");
  mig->add_option("--older-than", older_than,
                  "volumes written longer ago than this (30d, 12h) or before a time");
  mig->add_option("--pool-above", pool_above, "only if the disk pool is fuller than this percent...");
  mig->add_option("--pool-below", pool_below,
                  "...the oldest volumes until it would be this full (default: 10 below)");
  mig->add_option("--pool-capacity-mb", pool_capacity_mb,
                  "what the pool may hold (default: its filesystem's size)");
  mig->add_option("--copies", copies, "tape copies: 1, or 2 on separate cartridges (copy 2 to go off-site)")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
  mig->add_flag("--keep-disk", keep_disk, "copy to tape but keep the disk volumes (evict later)");
  mig->add_option("--streams", streams, "disk volumes written to one drive at once, interleaved")
      ->capture_default_str();
  mig->add_option("--commit-mb", commit_mb,
                  "commit to the catalog after this many MiB (what a crash may redo)")
      ->capture_default_str();
  mig->callback([&] {
    action = [&]() -> int {
      nlohmann::json body = {{"volumes", volsers},     {"all", all},         {"copies", copies},
                             {"keep_disk", keep_disk}, {"streams", streams}, {"commit_mb", commit_mb}};
      if (!older_than.empty()) {
        auto age = parse_duration(older_than);
        if (age.ok()) {
          body["older_than"] = format_utc(now_utc() - *age);
        } else {
          auto t = parse_time(older_than);
          if (!t.ok()) return report(age.error());
          body["older_than"] = format_utc(*t);
        }
      }
      if (pool_above >= 0) body["pool_above"] = pool_above;
      if (pool_below >= 0) body["pool_below"] = pool_below;
      if (pool_capacity_mb) body["pool_capacity"] = pool_capacity_mb << 20;
      auto started = ctx.api().post("/v1/migrations", body);
      if (!started.ok()) return report(started.error());
      auto done = follow_job(
          ctx, (*started)["id"].get<std::uint64_t>(),
          [](const nlohmann::json& st, double secs) {
            const auto& p = st["progress"];
            char line[256];
            std::snprintf(line, sizeof line, "%s  %llu/%llu chunks  %s  %s",
                          p["state"].get<std::string>().c_str(), p["chunks_done"].get<unsigned long long>(),
                          p["chunks_total"].get<unsigned long long>(),
                          human_size(p["bytes_done"].get<std::uint64_t>()).c_str(),
                          rate(p["bytes_done"].get<std::uint64_t>(), secs).c_str());
            return std::string(line);
          },
          "");
      if (!done.ok()) return report(done.error());
      if (ctx.json) return print_json(*done), 0;
      print_migration((*done)["report"]);
      return 0;
    };
  });

  static bool watch = false;
  static std::uint64_t cancel_id = 0;
  auto* queue = app.add_subcommand("queue", "Show what waits for tape: each request's place, state and ETA");
  queue->add_flag("--watch", watch, "redraw every second until the queue is empty");
  queue->add_option("--cancel", cancel_id, "cancel a staging request of yours (one made by a restore)");
  queue->callback([&] {
    action = [&]() -> int {
      if (cancel_id) {
        auto r = ctx.api().del("/v1/queue/" + std::to_string(cancel_id));
        if (!r.ok()) return report(r.error());
        if (ctx.json) return print_json(*r), 0;
        std::printf("request %llu: %s\n", static_cast<unsigned long long>(cancel_id),
                    (*r)["words"].get<std::string>().c_str());
        return 0;
      }
      const bool tty = isatty(STDOUT_FILENO);
      for (;;) {
        auto r = ctx.api().get("/v1/queue");
        if (!r.ok()) return report(r.error());
        if (ctx.json) return print_json(*r), 0;
        if (watch && tty) std::printf("\033[H\033[2J");
        print_queue(*r);
        if (!watch || (*r)["requests"].empty()) return 0;
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    };
  });
}

}  // namespace recall::cli
