// `recall cat` and `recall restore`.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli/output.h"
#include "cli/restorer.h"
#include "cli/staging_watch.h"
#include "cli/verbs.h"
#include "common/paths.h"
#include "common/sha256.h"

namespace recall::cli {

void add_restore_verbs(CLI::App& app, Context& ctx, Action& action) {
  static std::string host, at = "latest", path, dest, conflict = "rename";
  static bool dry_run = false;

  auto* cat = app.add_subcommand("cat", "Write a file's content, as it was at a point, to standard output");
  cat->add_option("--host", host, "host name")->required();
  cat->add_option("--at", at, "ISO 8601 time or 'latest'")->capture_default_str();
  cat->add_option("PATH", path, "absolute path of the file on the host")->required();
  cat->callback([&] {
    action = [&]() -> int {
      Sha256 hash;
      std::string expected;
      // Somebody waits for these bytes now: ahead of restores and prefetches in the tape queue.
      ctx.api().set_header("X-Recall-Priority", "interactive");
      Progress progress;
      std::unique_ptr<StagingWatch> watch;
      if (progress.enabled())
        watch = std::make_unique<StagingWatch>(
            ctx.socket,
            [&](ClientTransport& api) -> std::string {
              auto r = api.get(target("/v1/staging", {{"host", host}, {"at", at}, {"path", path}}));
              if (!r.ok()) return "";
              const std::string state = (*r).value("state", "");
              return state == "online" || state == "staged" || state == "done" ? "" : (*r).value("words", "");
            },
            [&](const std::string& words) { progress.update(words, true); });
      auto s = ctx.api().get_stream(
          target("/v1/content", {{"host", host}, {"at", at}, {"path", path}}),
          [&](std::span<const std::uint8_t> d) -> Status {
            if (watch) {
              watch.reset();  // the bytes are coming: nothing more to wait for
              progress.done();
            }
            hash.update(d);
            if (std::fwrite(d.data(), 1, d.size(), stdout) != d.size())
              return io_error("cannot write output", errno);
            return {};
          },
          [&](const auto& h) {
            if (auto it = h.find("X-Recall-Sha256"); it != h.end()) expected = std::string(it->value());
            // Known by its chunk list only (a restic import): recalld checked every chunk.
            if (auto v = h.find("X-Recall-Verified");
                expected.empty() && v != h.end() && v->value() == "chunks")
              expected = "chunks";
          });
      std::fflush(stdout);
      watch.reset();
      progress.done();
      if (!s.ok()) return report(s.error());
      if (expected != "chunks" && to_hex(hash.finish()) != expected)
        return report(
            make_error(ErrorKind::Corrupt, path + ": content does not match the catalog's SHA-256"));
      return 0;
    };
  });

  auto* restore = app.add_subcommand("restore", "Restore a file or directory, as it was at a point, to DEST");
  restore->add_option("--host", host, "host name")->required();
  restore->add_option("--at", at, "ISO 8601 time or 'latest'")->capture_default_str();
  restore
      ->add_option("--on-conflict", conflict, "when a target exists: skip, rename (keep both) or overwrite")
      ->check(CLI::IsMember({"skip", "rename", "overwrite"}))
      ->capture_default_str();
  restore->add_flag("--dry-run", dry_run, "only print what would be written, replaced or skipped");
  restore->add_option("PATH", path, "absolute path on the host")->required();
  restore->add_option("DEST", dest, "where to put it: an existing directory, or the new name")->required();
  restore->callback([&] {
    action = [&]() -> int {
      RestoreOptions o{host,
                       at,
                       path,
                       dest,
                       conflict == "skip"        ? OnConflict::Skip
                       : conflict == "overwrite" ? OnConflict::Overwrite
                                                 : OnConflict::Rename,
                       dry_run};
      Restorer r(ctx, o);
      auto sum = r.run();
      if (!sum.ok()) return report(sum.error());
      if (ctx.json) {
        print_json({{"files", sum->files},
                    {"dirs", sum->dirs},
                    {"symlinks", sum->links},
                    {"others", sum->others},
                    {"bytes", sum->bytes},
                    {"tape_bytes", sum->tape_bytes},
                    {"cartridges", sum->cartridges},
                    {"skipped", sum->skipped},
                    {"renamed", sum->renamed},
                    {"replaced", sum->replaced},
                    {"warnings", sum->warnings},
                    {"dry_run", dry_run},
                    {"plan", sum->plan}});
        return 0;
      }
      for (const auto& p : sum->plan)
        std::printf("%-8s %s%s\n", p["action"].get<std::string>().c_str(),
                    one_line(p["path"].get<std::string>()).c_str(),
                    p.contains("to") ? (" -> " + p["to"].get<std::string>()).c_str() : "");
      for (const auto& w : sum->warnings) std::fprintf(stderr, "recall: warning: %s\n", one_line(w).c_str());
      if (sum->tape_bytes && !dry_run) {
        std::string carts;
        for (const auto& c : sum->cartridges) carts += (carts.empty() ? "" : ", ") + c;
        std::printf("staged %s from tape (%s)\n", human_size(sum->tape_bytes).c_str(), carts.c_str());
      }
      std::printf(
          "%s%llu files (%s), %llu directories, %llu symlinks; %llu skipped, %llu kept both, %llu replaced\n",
          dry_run ? "would restore " : "restored ", static_cast<unsigned long long>(sum->files),
          human_size(sum->bytes).c_str(), static_cast<unsigned long long>(sum->dirs),
          static_cast<unsigned long long>(sum->links), static_cast<unsigned long long>(sum->skipped),
          static_cast<unsigned long long>(sum->renamed), static_cast<unsigned long long>(sum->replaced));
      return 0;
    };
  });
}

}  // namespace recall::cli
