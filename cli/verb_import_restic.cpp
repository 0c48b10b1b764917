// `recall import restic`: records the snapshots of a restic repository as points. The password is
// read here (from --password-file, $RESTIC_PASSWORD_FILE or $RESTIC_PASSWORD, as restic does) and
// sent to recalld over its socket; recalld keeps the repository's key, never the password.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/job_follow.h"
#include "cli/output.h"
#include "cli/verbs.h"
#include "common/paths.h"

namespace recall::cli {
namespace {

// restic trims surrounding white space from a password file; so does this.
Result<std::string> read_password(const std::string& file) {
  std::string from = file;
  if (from.empty()) {
    if (const char* f = std::getenv("RESTIC_PASSWORD_FILE"); f && *f) from = f;
  }
  if (from.empty()) {
    if (const char* p = std::getenv("RESTIC_PASSWORD"); p && *p) return std::string(p);
    return make_error(
        ErrorKind::Invalid,
        "the repository's password is needed: give --password-file FILE (or set RESTIC_PASSWORD_FILE)");
  }
  std::ifstream in(from, std::ios::binary);
  if (!in) return io_error("cannot read the password file " + from, errno);
  std::stringstream text;
  text << in.rdbuf();
  std::string pw = text.str();
  const auto first = pw.find_first_not_of(" \t\r\n\v\f");
  if (first == std::string::npos)
    return make_error(ErrorKind::Invalid, "the password file " + from + " is empty");
  pw = pw.substr(first, pw.find_last_not_of(" \t\r\n\v\f") - first + 1);
  return pw;
}

void print_restic_summary(const nlohmann::json& rep) {
  if (rep.value("already_imported", false)) {
    std::printf("%s: all %llu snapshot(s) already imported (the first as %s); nothing to do\n",
                rep["repo"].get<std::string>().c_str(),
                rep["snapshots_in_repository"].get<unsigned long long>(),
                rep["already_as"].get<std::string>().c_str());
    return;
  }
  std::printf("%zu snapshot(s) of restic repository %s (format %d) recorded in %.1f s\n",
              rep["snapshots"].size(), rep["repo"].get<std::string>().c_str(), rep["version"].get<int>(),
              rep["seconds"].get<double>());
  for (const auto& s : rep["snapshots"]) {
    std::string paths;
    for (const auto& p : s["paths"]) paths += (paths.empty() ? "" : " ") + p.get<std::string>();
    std::printf("  %.8s  point %s of %s (#%lld) %s: %llu entries, %llu changed, %llu gone\n",
                s["snapshot"].get<std::string>().c_str(), s["at"].get<std::string>().c_str(),
                s["host"].get<std::string>().c_str(), s["seq"].get<long long>(), paths.c_str(),
                s["entries"].get<unsigned long long>(), s["changed"].get<unsigned long long>(),
                s["deleted"].get<unsigned long long>());
  }
  std::printf("  data      read in place from %llu pack(s), decrypted when read\n",
              rep["packs"].get<unsigned long long>());
  for (const auto& s : rep["skipped"])
    std::printf("  skipped   %.8s: %s\n", s["snapshot"].get<std::string>().c_str(),
                one_line(s["reason"].get<std::string>()).c_str());
  if (rep["unavailable"].get<std::uint64_t>() > 0) {
    std::printf("  %llu file(s) are listed but their bytes are not available, e.g.:\n",
                rep["unavailable"].get<unsigned long long>());
    for (const auto& e : rep["unavailable_examples"])
      std::printf("    %s: %s\n", one_line(e["path"].get<std::string>()).c_str(),
                  one_line(e["reason"].get<std::string>()).c_str());
  }
  for (const auto& w : rep["warnings"])
    std::printf("  warning   %s\n", one_line(w.get<std::string>()).c_str());
}

}  // namespace

void add_restic_verb(CLI::App* imp, Context& ctx, Action& action) {
  auto* cmd =
      imp->add_subcommand("restic", "Record the snapshots of a restic repository as points of their hosts");
  static std::string repo, password_file, host;
  cmd->add_option("--repo,-r", repo, "the repository (a local directory, format version 1 or 2)")->required();
  cmd->add_option(
      "--password-file,-p", password_file,
      "file holding the repository's password (default: $RESTIC_PASSWORD_FILE, $RESTIC_PASSWORD)");
  cmd->add_option("--host", host, "only the snapshots of this host (default: every host's)");
  cmd->footer(
      "Each snapshot becomes a point of its host at the snapshot's time; nothing is copied: files are read\n"
      "from the repository's pack files (keep the repository where it is) and decrypted with its key, which\n"
      "recalld keeps in its home (root only). Snapshots imported before are skipped, so running this again\n"
      "after new backups imports just those. All new snapshots are one transaction.");
  cmd->callback([&] {
    action = [&]() -> int {
      char resolved[PATH_MAX];
      if (!realpath(repo.c_str(), resolved)) return report(io_error("cannot import " + repo, errno));
      auto pw = read_password(password_file);
      if (!pw.ok()) return report(pw.error());
      nlohmann::json body = {{"kind", "restic"}, {"path", resolved}, {"password", *pw}};
      if (!host.empty()) body["host"] = host;
      auto started = ctx.api().post("/v1/imports", body);
      if (!started.ok()) return report(started.error());
      auto done = follow_job(
          ctx, (*started)["id"].get<std::uint64_t>(),
          [name = repo](const nlohmann::json& st, double) {
            const auto& p = st["progress"];
            char line[512];
            std::snprintf(line, sizeof line, "%s  %s  %llu entries  %llu versions recorded  %s of files",
                          st["state"] == "queued" ? "waiting for another import" : "reading trees",
                          name.c_str(), p["entries"].get<unsigned long long>(),
                          p["entries_changed"].get<unsigned long long>(),
                          human_size(p["bytes_total"].get<std::uint64_t>()).c_str());
            return std::string(line);
          },
          "; the catalog is unchanged");
      if (!done.ok()) return report(done.error());
      if (ctx.json) return print_json(*done), 0;
      print_restic_summary((*done)["report"]);
      return 0;
    };
  });
}

}  // namespace recall::cli
