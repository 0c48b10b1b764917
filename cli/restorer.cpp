#include "cli/restorer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "catalogd/http/url.h"
#include "cli/dest_dir.h"
#include "cli/staging_watch.h"
#include "common/paths.h"
#include "common/sha256.h"

namespace recall::cli {
namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Ctrl-C stops a restore between two writes; the file being written is removed.
std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

// "name.recall-N", shortened so that the whole name still fits in 255 bytes.
std::string alternative_name(const std::string& name, int n) {
  std::string suffix = ".recall-" + std::to_string(n);
  std::size_t keep = std::min(name.size(), std::size_t{255} - suffix.size());
  while (keep > 0 && keep < name.size() && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;
  return name.substr(0, keep) + suffix;
}

std::string join_rel(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }
std::string join_host(const std::string& a, const std::string& b) { return a == "/" ? "/" + b : a + "/" + b; }

}  // namespace

Status Restorer::collect(const std::string& host_path, const std::string& rel, const nlohmann::json& meta) {
  items_.push_back({rel, meta});
  if (meta.value("type", "") == "file") total_bytes_ += meta.value("size", 0ull);
  if (meta.value("type", "") != "dir") return {};
  auto r = ctx_.api().get(target("/v1/ls", {{"host", o_.host}, {"at", o_.at}, {"path", host_path}}));
  if (!r.ok()) {
    if (r.error().kind == ErrorKind::Denied) {  // as on the host: what you cannot list is not restored
      sum_.warnings.push_back("skipped " + escape_for_display(host_path) + ": " + r.error().message);
      items_.back().meta["unlistable"] = true;
      return {};
    }
    return r.error();
  }
  for (const auto& e : (*r)["entries"]) {
    std::string name = raw_bytes(e, "name");
    if (!is_safe_name(name))
      return make_error(ErrorKind::Corrupt,
                        "refusing unsafe name '" + escape_for_display(name) + "' in " + host_path);
    if (!e.contains("mode")) {
      sum_.warnings.push_back("skipped " + escape_for_display(join_host(host_path, name)) +
                              ": no permission to search " + escape_for_display(host_path));
      continue;
    }
    RECALL_TRY(collect(join_host(host_path, name), join_rel(rel, name), e));
  }
  return {};
}

Result<std::string> Restorer::pick_name(int dirfd, const std::string& name, const std::string& shown,
                                        bool is_dir, bool& skip, bool& replace) {
  skip = replace = false;
  struct stat st {};
  if (dirfd < 0 || fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (dirfd < 0) errno = ENOENT;  // inside a directory a dry run would create
    if (errno == ENOENT) {
      if (o_.dry_run) sum_.plan.push_back({{"action", "write"}, {"path", shown}});
      return name;
    }
    return io_error("cannot check " + shown, errno);
  }
  if (is_dir && S_ISDIR(st.st_mode)) {  // existing directories are merged into
    if (o_.dry_run) sum_.plan.push_back({{"action", "merge"}, {"path", shown}});
    return name;
  }
  OnConflict choice = o_.on_conflict;
  if (choice == OnConflict::Ask) {
    if (o_.dry_run || !o_.ask) {
      if (o_.dry_run) sum_.plan.push_back({{"action", "ask"}, {"path", shown}});
      return name;
    }
    choice = o_.ask(shown, S_ISDIR(st.st_mode) && !is_dir);
  }
  switch (choice) {
    case OnConflict::Ask:  // not an answer: keep both
    case OnConflict::Rename:
      for (int i = 1; i < 10000; ++i) {
        std::string alt = alternative_name(name, i);
        if (fstatat(dirfd, alt.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
          sum_.renamed++;
          if (o_.dry_run)
            sum_.plan.push_back({{"action", "rename"}, {"path", shown}, {"to", escape_for_display(alt)}});
          return alt;
        }
      }
      return make_error(ErrorKind::Conflict, "no free name for " + shown);
    case OnConflict::Skip:
      skip = true;
      sum_.skipped++;
      if (o_.dry_run) sum_.plan.push_back({{"action", "skip"}, {"path", shown}});
      return name;
    case OnConflict::Overwrite:
      if (S_ISDIR(st.st_mode))
        return make_error(ErrorKind::Conflict,
                          shown + " exists and is a directory; not replacing it with a file");
      replace = true;
      sum_.replaced++;
      if (o_.dry_run) sum_.plan.push_back({{"action", "replace"}, {"path", shown}});
      return name;
  }
  return name;
}

unsigned Restorer::restored_mode(const std::string& shown, const nlohmann::json& meta) {
  unsigned mode = meta.value("mode", 0644u) & 07777u;
  if (!root_ && (mode & (S_ISUID | S_ISGID))) {
    mode &= ~static_cast<unsigned>(S_ISUID | S_ISGID);
    if (meta.value("type", "") != "dir")
      sum_.warnings.push_back("dropped setuid/setgid bits of " + shown + " (only root may restore them)");
  }
  return mode;
}

// Owner, mode and times go through a descriptor of the object itself, never through a name
// someone could swap for a symlink between our creating it and our changing it.
void Restorer::apply_meta_fd(int fd, const std::string& shown, const nlohmann::json& meta) {
  if (root_ && fchown(fd, meta.value("uid", 0u), meta.value("gid", 0u)) != 0)
    sum_.warnings.push_back("cannot set owner of " + shown + ": " + std::strerror(errno));
  fchmod(fd, restored_mode(shown, meta));
  std::int64_t ns = meta.value("mtime_ns", std::int64_t{0});
  struct timespec ts[2] = {{0, UTIME_OMIT},
                           {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}};
  futimens(fd, ts);
}

void Restorer::apply_meta_special(int dirfd, const std::string& name, const std::string& shown,
                                  const nlohmann::json& meta, bool is_link) {
  std::int64_t ns = meta.value("mtime_ns", std::int64_t{0});
  struct timespec ts[2] = {{0, UTIME_OMIT},
                           {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}};
  if (is_link) {  // symlinks have no mode; both calls act on the link itself
    if (root_ &&
        fchownat(dirfd, name.c_str(), meta.value("uid", 0u), meta.value("gid", 0u), AT_SYMLINK_NOFOLLOW) != 0)
      sum_.warnings.push_back("cannot set owner of " + shown + ": " + std::strerror(errno));
    utimensat(dirfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
    return;
  }
  // Fifos and devices cannot be opened for real without side effects: pin them with O_PATH,
  // check what was pinned, and change them through /proc/self/fd.
  Fd fd(openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (fd.fd < 0 || fstat(fd.fd, &st) != 0 ||
      !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    sum_.warnings.push_back("not setting owner and mode of " + shown + ": it was replaced while restoring");
    return;
  }
  std::string proc = "/proc/self/fd/" + std::to_string(fd.fd);
  if (root_ && fchownat(fd.fd, "", meta.value("uid", 0u), meta.value("gid", 0u), AT_EMPTY_PATH) != 0)
    sum_.warnings.push_back("cannot set owner of " + shown + ": " + std::strerror(errno));
  chmod(proc.c_str(), restored_mode(shown, meta));
  utimensat(AT_FDCWD, proc.c_str(), ts, 0);
}

Status Restorer::write_file(int dirfd, const std::string& final_name, bool replace, const Item& item,
                            const std::string& host_path) {
  std::string tmp = ".recall-tmp-" + std::to_string(getpid()) + "-" + final_name.substr(0, 100);
  Fd fd(openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  const std::string shown = escape_for_display(host_path);
  if (fd.fd < 0) return io_error("cannot create a file in the destination for " + shown, errno);
  Sha256 hash;
  std::uint64_t got = 0;
  std::string expected;
  auto s = ctx_.api().get_stream(
      target("/v1/content", {{"host", o_.host}, {"at", o_.at}, {"path", host_path}}),
      [&](std::span<const std::uint8_t> data) -> Status {
        if (stopped())
          return make_error(ErrorKind::Cancelled, "restore interrupted; nothing half-written was left");
        hash.update(data);
        got += data.size();
        sum_.bytes += data.size();
        for (std::size_t off = 0; off < data.size();) {
          ssize_t n = ::write(fd.fd, data.data() + off, data.size() - off);
          if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("cannot write " + shown, errno);
          }
          off += static_cast<std::size_t>(n);
        }
        draw();
        return {};
      },
      [&](const auto& header) {
        auto it = header.find("X-Recall-Sha256");
        if (it != header.end()) expected = std::string(it->value());
        // A file known by its chunk list only (a restic import): recalld checked every chunk.
        if (auto v = header.find("X-Recall-Verified");
            it == header.end() && v != header.end() && v->value() == "chunks")
          expected = "chunks";
      });
  auto cleanup = [&](Error e) -> Status {
    unlinkat(dirfd, tmp.c_str(), 0);
    return e;
  };
  if (!s.ok()) return cleanup(s.error());
  std::string actual = expected == "chunks" ? expected : to_hex(hash.finish());
  if (got != item.meta.value("size", 0ull) || expected.empty() || actual != expected)
    return cleanup(make_error(ErrorKind::Corrupt, shown +
                                                      ": restored bytes do not match the catalog's SHA-256; "
                                                      "nothing was written"));
  apply_meta_fd(fd.fd, shown, item.meta);
  if (fsync(fd.fd) != 0) return cleanup(io_error("cannot flush " + shown, errno));
  unsigned flags = replace ? 0 : RENAME_NOREPLACE;
  if (renameat2(dirfd, tmp.c_str(), dirfd, final_name.c_str(), flags) != 0)
    return cleanup(io_error("cannot put " + escape_for_display(final_name) + " in place", errno));
  return {};
}

bool Restorer::stopped() const { return interrupted || (o_.cancel && o_.cancel->load()); }

void Restorer::draw(bool force) {
  std::lock_guard lk(draw_mu_);
  if (o_.on_progress) {
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_report_ < std::chrono::milliseconds(100)) return;
    last_report_ = now;
    o_.on_progress({sum_.bytes, total_bytes_, sum_.files, staging_words_});
    return;
  }
  char line[200];
  std::snprintf(line, sizeof line, "restoring  %s of %s  %llu files", human_size(sum_.bytes).c_str(),
                human_size(total_bytes_).c_str(), static_cast<unsigned long long>(sum_.files));
  progress_.update(staging_words_.empty() ? line : std::string(line) + "  \u2014 " + staging_words_, force);
}

std::size_t Restorer::stage_ahead(std::size_t first) {
  nlohmann::json paths = nlohmann::json::array();
  std::uint64_t bytes = 0;
  std::size_t i = first;
  for (; i < items_.size() && (bytes < kStageBatchBytes || paths.empty()) && paths.size() < 10000; ++i) {
    const auto& it = items_[i];
    if (it.meta.value("type", "") != "file" || it.meta.contains("unlistable")) continue;
    // Percent-encoded: names need not be UTF-8, JSON strings must be.
    paths.push_back(url_encode(it.rel.empty() ? root_path_ : join_host(root_path_, it.rel)));
    bytes += it.meta.value("size", 0ull);
  }
  if (paths.empty()) return i;
  auto r = ctx_.api().post("/v1/stage",
                           {{"host", o_.host}, {"at", o_.at}, {"paths_raw", paths}, {"priority", "restore"}});
  if (!r.ok()) {
    // Reading stages whatever it needs anyway: this only loses the planning ahead.
    if (r.error().kind != ErrorKind::Offline)
      sum_.warnings.push_back("staging ahead from tape: " + r.error().message);
    return i;
  }
  sum_.tape_bytes += (*r).value("tape_bytes", 0ull);
  for (const auto& c : (*r)["cartridges"]) {
    std::string v = c.value("volser", "");
    if (std::find(sum_.cartridges.begin(), sum_.cartridges.end(), v) == sum_.cartridges.end())
      sum_.cartridges.push_back(v);
  }
  if ((*r).value("id", 0ull)) stage_ids_.push_back((*r)["id"].get<std::uint64_t>());
  return i;
}

void Restorer::estimate() {
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& it : items_)
    if (it.meta.value("type", "") == "file" && !it.meta.contains("unlistable"))
      paths.push_back(url_encode(it.rel.empty() ? root_path_ : join_host(root_path_, it.rel)));
  if (paths.empty()) return;
  // recalld estimates at most 20,000 files at once; the first ones stand for a bigger tree.
  if (paths.size() > 20000) paths.erase(paths.begin() + 20000, paths.end());
  auto r = ctx_.api().post("/v1/estimate", {{"host", o_.host}, {"at", o_.at}, {"paths_raw", paths}});
  if (r.ok()) {
    sum_.estimate = *r;
  } else if (r.error().kind != ErrorKind::Offline) {
    sum_.warnings.push_back("estimating the staging from tape: " + r.error().message);
  }
}

void Restorer::cancel_staging() {
  for (auto id : stage_ids_) (void)ctx_.api().del("/v1/queue/" + std::to_string(id));
  stage_ids_.clear();
}

Result<std::optional<std::string>> Restorer::restore_item(int parent_fd, const std::string& parent_rel,
                                                          const std::string& name, const Item& item,
                                                          const std::string& host_path) {
  using Named = std::optional<std::string>;
  const std::string type = item.meta.value("type", "");
  if (item.meta.contains("unlistable")) return Named();  // named in a warning by collect()
  std::string shown = escape_for_display(o_.dest + (item.rel.empty() ? "" : "/" + item.rel));
  bool skip = false, replace = false;
  auto final_name = pick_name(parent_fd, name, shown, type == "dir", skip, replace);
  if (!final_name.ok()) return final_name.error();
  if (skip) return Named();
  if (o_.dry_run) {
    if (type == "file") sum_.files++, sum_.bytes += item.meta.value("size", 0ull);
    if (type == "dir") sum_.dirs++;
    return Named(*final_name);
  }
  if (type == "dir") {
    if (replace && unlinkat(parent_fd, final_name->c_str(), 0) != 0)  // --on-conflict overwrite of a file
      return io_error("cannot replace " + shown + " with a directory", errno);
    // Its own permission bits from the start (and u+rwx, so the restore can fill it), so that a
    // restore killed midway leaves directories near their modes; owner and times come last.
    const mode_t early = (item.meta.value("mode", 0755u) & 0777u) | S_IRWXU;
    if (mkdirat(parent_fd, final_name->c_str(), early) != 0 && errno != EEXIST)
      return io_error("cannot create directory " + shown, errno);
    sum_.dirs++;
    return Named(*final_name);
  }
  if (replace && type != "file") unlinkat(parent_fd, final_name->c_str(), 0);
  LinkKey ino{item.meta.value("ino", 0ull), item.meta.value("size", 0ull),
              item.meta.value("mtime_ns", std::int64_t{0})};
  bool linked = type == "file" && item.meta.value("nlink", 1u) > 1;
  if (linked) {
    if (auto it = links_.find(ino); it != links_.end()) {
      // The other name of this inode was restored already: link to it, as on the host.
      if (replace) unlinkat(parent_fd, final_name->c_str(), 0);
      auto dir = dir_fds_.find(it->second.first);
      if (dir != dir_fds_.end() &&
          linkat(dir->second, it->second.second.c_str(), parent_fd, final_name->c_str(), 0) == 0) {
        sum_.files++;
        return Named(*final_name);
      }
    }
  }
  if (type == "file") {
    Status s = write_file(parent_fd, *final_name, replace, item, host_path);
    if (!s.ok()) {
      // As on the host: what the caller may not read is left out, the rest is restored.
      // A single file asked for by name fails loudly instead.
      if (s.error().kind != ErrorKind::Denied || item.rel.empty()) return s.error();
      sum_.warnings.push_back("not restored: " + shown + ": " + s.error().message);
      return Named();
    }
    sum_.files++;
    if (linked) links_[ino] = {parent_rel, *final_name};
    return Named(*final_name);
  }
  if (type == "symlink") {
    std::string target_bytes = raw_bytes(item.meta, "target");
    if (symlinkat(target_bytes.c_str(), parent_fd, final_name->c_str()) != 0)
      return io_error("cannot create symlink " + shown, errno);
    apply_meta_special(parent_fd, *final_name, shown, item.meta, true);
    sum_.links++;
    return Named(*final_name);
  }
  if (type == "fifo") {
    if (mkfifoat(parent_fd, final_name->c_str(), 0600) != 0)
      return io_error("cannot create fifo " + shown, errno);
    apply_meta_special(parent_fd, *final_name, shown, item.meta, false);
    sum_.others++;
    return Named(*final_name);
  }
  if ((type == "chardev" || type == "blockdev") && root_) {
    mode_t m = (type == "chardev" ? S_IFCHR : S_IFBLK) | 0600;
    if (mknodat(parent_fd, final_name->c_str(), m, static_cast<dev_t>(item.meta.value("rdev", 0ull))) != 0)
      return io_error("cannot create device " + shown, errno);
    apply_meta_special(parent_fd, *final_name, shown, item.meta, false);
    sum_.others++;
    return Named(*final_name);
  }
  sum_.warnings.push_back("not restored: " + shown + " (" + type + (root_ ? "" : "; devices need root") +
                          ")");
  return Named();
}

// Directory modes, owners and times last, deepest first: writing into them changed their mtime,
// and a read-only mode would have stopped the restore. Also when a restore stops early, so that
// what it restored has its modes.
void Restorer::finish_dirs(const std::vector<std::pair<std::string, nlohmann::json>>& dirs) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    auto fd = dir_fds_.find(it->first);
    if (fd != dir_fds_.end() && fd->second >= 0)
      apply_meta_fd(fd->second, escape_for_display(o_.dest + "/" + it->first), it->second);
  }
}

Result<RestoreSummary> Restorer::run() {
  root_ = geteuid() == 0;
  if (o_.catch_signals) {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
  }
  auto st = ctx_.api().get(target("/v1/stat", {{"host", o_.host}, {"at", o_.at}, {"path", o_.path}}));
  if (!st.ok()) return st.error();
  std::string root_host_path = raw_bytes(*st, "path");
  root_path_ = root_host_path;
  // cp semantics: into DEST/NAME when DEST is an existing directory, else DEST is the new name.
  // DEST is opened without following anyone else's symlinks (dest_dir.h), before anything is read.
  std::string base = root_host_path == "/" ? "" : root_host_path.substr(root_host_path.rfind('/') + 1);
  auto dest = open_dest(o_.dest, base, geteuid());
  if (!dest.ok()) return dest.error();
  const std::string root_name = dest->name;
  if (dest->into && !base.empty()) o_.dest += "/" + base;
  RECALL_TRY(collect(root_host_path, "", *st));
  if (o_.dry_run && o_.estimate) estimate();
  // Everything that must come from tape is asked for before the first read, a batch at a time, so
  // the tape bridge plans each cartridge's pass over all of it instead of one file after another.
  std::unique_ptr<StagingWatch> watch;
  if (!o_.dry_run) {
    staged_upto_ = stage_ahead(0);
    if (!stage_ids_.empty() && (progress_.enabled() || o_.on_progress))
      watch = std::make_unique<StagingWatch>(
          ctx_.socket,
          [this](ClientTransport& api) -> std::string {
            std::uint64_t id;
            {
              std::lock_guard lk(draw_mu_);
              if (stage_ids_.empty()) return "";
              id = stage_ids_.back();
            }
            auto q = api.get("/v1/queue/" + std::to_string(id));
            if (!q.ok() || (*q).value("state", "") == "done") return "";
            return (*q).value("words", "");
          },
          [this](const std::string& words) {
            {
              std::lock_guard lk(draw_mu_);
              staging_words_ = words;
            }
            draw(true);
          });
  }

  Fd parent(dest->dir.release());
  // Directories are walked with descriptors opened O_NOFOLLOW, so a symlink planted inside
  // DEST can never redirect a restore elsewhere.
  auto close_all = [&] {
    for (auto& [k, fd] : dir_fds_)
      if (fd >= 0) ::close(fd);
    dir_fds_.clear();
  };
  std::vector<std::pair<std::string, nlohmann::json>> dirs_done;
  for (const auto& item : items_) {
    std::string rel_parent, name;
    int pfd;
    if (item.rel.empty()) {
      pfd = parent.fd;
      name = root_name;
      if (name.empty()) {  // restoring "/" into DEST itself
        dir_fds_[""] = dup(parent.fd);
        continue;
      }
    } else {
      auto slash = item.rel.rfind('/');
      rel_parent = slash == std::string::npos ? "" : item.rel.substr(0, slash);
      name = slash == std::string::npos ? item.rel : item.rel.substr(slash + 1);
      auto it = dir_fds_.find(rel_parent);
      if (it == dir_fds_.end()) continue;  // its directory was skipped
      pfd = it->second;
    }
    if (stopped()) {
      finish_dirs(dirs_done);
      close_all();
      watch.reset();
      cancel_staging();
      return make_error(ErrorKind::Cancelled, "restore interrupted; what was restored so far stays");
    }
    // Halfway through what was asked for, the next batch is asked for.
    const auto index = static_cast<std::size_t>(&item - items_.data());
    if (!o_.dry_run && staged_upto_ < items_.size() && 2 * index >= staged_from_ + staged_upto_) {
      std::lock_guard lk(draw_mu_);  // the watch reads stage_ids_
      staged_from_ = staged_upto_;
      staged_upto_ = stage_ahead(staged_upto_);
    }
    std::string host_path = item.rel.empty() ? root_host_path : join_host(root_host_path, item.rel);
    auto placed = restore_item(pfd, rel_parent, name, item, host_path);
    if (!placed.ok()) {
      finish_dirs(dirs_done);
      close_all();
      watch.reset();
      cancel_staging();
      return placed.error();
    }
    if (!*placed || item.meta.value("type", "") != "dir" || item.meta.contains("unlistable")) continue;
    int fd = pfd < 0 ? -1 : openat(pfd, (*placed)->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && !(o_.dry_run && (pfd < 0 || errno == ENOENT))) {
      close_all();
      return io_error(
          "cannot enter " + escape_for_display(o_.dest + "/" + item.rel) + " (a symlink is never followed)",
          errno);
    }
    dir_fds_[item.rel] = fd;  // -1 in a dry run: a directory that would be created
    if (!o_.dry_run) dirs_done.emplace_back(item.rel, item.meta);
  }
  finish_dirs(dirs_done);
  close_all();
  watch.reset();
  if (o_.on_progress) draw(true);
  progress_.done();
  return sum_;
}

}  // namespace recall::cli
