// Restores files from recalld into a local directory as the calling user: byte identical
// (each file's SHA-256 checked against the catalog before it is put in place), mode and mtime
// kept, owners kept only for root, setuid/setgid bits dropped for everyone else, and never
// following a symlink inside the destination (every step is openat(O_NOFOLLOW) from the
// destination's directory descriptor).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "cli/context.h"
#include "cli/output.h"

namespace recall::cli {

// Rename keeps both (the restored copy gets "NAME.recall-N"); Ask lets `ask` decide per target.
enum class OnConflict { Skip, Rename, Overwrite, Ask };

// What a front end that draws its own progress (the browser) is told, from the restoring thread.
struct RestoreProgress {
  std::uint64_t bytes = 0, total_bytes = 0, files = 0;
  std::string staging_words;  // "Waiting for tape R00042 - 2nd in queue, about 40 s", or ""
};

struct RestoreOptions {
  std::string host, at, path, dest;
  OnConflict on_conflict = OnConflict::Rename;
  bool dry_run = false;
  // OnConflict::Ask: called for each existing target (`shown`, a directory when `is_dir` and the
  // restored item is not one); returns Skip, Rename or Overwrite. A dry run records "ask" instead.
  std::function<OnConflict(const std::string& shown, bool is_dir)> ask;
  std::function<void(const RestoreProgress&)> on_progress;  // at most 10 times a second
  const std::atomic<bool>* cancel = nullptr;                // set: stop between two writes
  bool catch_signals = true;                                // SIGINT/SIGTERM stop the restore (CLI)
  bool estimate = false;  // dry run: ask recalld what staging the files from tape would take
};

struct RestoreSummary {
  std::uint64_t files = 0, dirs = 0, links = 0, others = 0, bytes = 0;
  std::uint64_t tape_bytes = 0;         // bytes that had to come from tape
  std::vector<std::string> cartridges;  // the tapes they came from
  std::uint64_t skipped = 0, renamed = 0, replaced = 0;
  std::vector<std::string> warnings;
  std::vector<nlohmann::json> plan;  // dry run: what would happen to each target
  nlohmann::json estimate;           // dry run with `estimate`: POST /v1/estimate's answer
};

class Restorer {
 public:
  Restorer(Context& ctx, RestoreOptions o) : ctx_(ctx), o_(std::move(o)) {}
  Result<RestoreSummary> run();

 private:
  struct Item {
    std::string rel;  // relative to the restore root, "" for the root itself
    nlohmann::json meta;
  };
  Status collect(const std::string& host_path, const std::string& rel, const nlohmann::json& meta);
  // Restores one item into the directory `parent_fd` (the directory item.rel's parent maps to
  // in dir_fds_); returns the name it got there, or nullopt when it was skipped.
  Result<std::optional<std::string>> restore_item(int parent_fd, const std::string& parent_rel,
                                                  const std::string& name, const Item& item,
                                                  const std::string& host_path);
  Result<std::string> pick_name(int dirfd, const std::string& name, const std::string& shown, bool is_dir,
                                bool& skip, bool& replace);
  Status write_file(int dirfd, const std::string& final_name, bool replace, const Item& item,
                    const std::string& host_path);
  // `shown` names the target in warnings (the file may still have its temporary name).
  unsigned restored_mode(const std::string& shown, const nlohmann::json& meta);
  void apply_meta_fd(int fd, const std::string& shown, const nlohmann::json& meta);
  void finish_dirs(const std::vector<std::pair<std::string, nlohmann::json>>& dirs);
  void apply_meta_special(int dirfd, const std::string& name, const std::string& shown,
                          const nlohmann::json& meta, bool is_link);

  // Asks recalld to stage from tape, ahead of the reads, the files of items_ from `first` on, up to
  // kStageBatchBytes of them; returns the index of the first item it did not ask for.
  std::size_t stage_ahead(std::size_t first);
  void cancel_staging();
  bool stopped() const;  // interrupted by a signal or cancelled by the front end
  void estimate();
  void draw(bool force = false);  // the progress line; from the restore and from the staging watch

  static constexpr std::uint64_t kStageBatchBytes = 1ull << 30;

  Context& ctx_;
  RestoreOptions o_;
  std::string root_path_;                          // the restored path as the catalog has it
  std::vector<std::uint64_t> stage_ids_;           // staging requests made for this restore
  std::size_t staged_from_ = 0, staged_upto_ = 0;  // the last batch of items_ asked for
  std::mutex draw_mu_;
  std::string staging_words_;
  RestoreSummary sum_;
  std::vector<Item> items_;
  std::uint64_t total_bytes_ = 0;
  // Hard links: (host inode, size, mtime) -> (directory key in dir_fds_, name) of the first
  // restored name. Size and mtime guard against equal inode numbers from two filesystems.
  using LinkKey = std::tuple<std::uint64_t, std::uint64_t, std::int64_t>;
  std::map<LinkKey, std::pair<std::string, std::string>> links_;
  // Open descriptors of the restored directories by their relative path; -1 in a dry run for
  // a directory that does not exist yet.
  std::map<std::string, int> dir_fds_;
  Progress progress_;
  std::chrono::steady_clock::time_point last_report_{};  // of on_progress
  bool root_ = false;
};

}  // namespace recall::cli
