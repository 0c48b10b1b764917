// Restores run off the GUI thread through the CLI's Restorer (cli/restorer.h: verified bytes,
// O_NOFOLLOW walks, temporary names until complete), one chosen item after another. A conflict
// blocks the restoring thread until the person answers; "for all" answers are remembered.
// A preview is the same run as a dry run, plus recalld's estimate of the tape work.
#pragma once

#include <QObject>
#include <QStringList>
#include <QThread>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "cli/restorer.h"
#include "gui/formatting.h"

namespace recall::gui {

struct RestoreItem {
  std::string host, at, path, type;  // at: the point (ISO 8601)
  std::uint64_t size = 0;
};

struct RestoreRequest {
  std::vector<RestoreItem> items;
  bool to_original = true;  // else into `folder`
  std::string folder;
  cli::OnConflict on_conflict = cli::OnConflict::Ask;
};

// Where an item goes: its original folder, or the chosen one. Error text when there is none.
std::string destination_of(const RestoreRequest& r, const RestoreItem& item, QString* problem);

// "Keep both / Replace / Skip", once or for every later conflict.
class ConflictMemory {
 public:
  std::optional<cli::OnConflict> remembered() const { return for_all_; }
  void answer(cli::OnConflict choice, bool for_all) {
    if (for_all) for_all_ = choice;
  }
  void forget() { for_all_.reset(); }

 private:
  std::optional<cli::OnConflict> for_all_;
};

struct PreviewLine {
  QString action;  // "write", "replace", "rename", "skip", "merge", "ask"
  QString path, to;
};

struct Preview {
  std::vector<PreviewLine> lines;
  CostEstimate cost;
  QString hint;     // cost_hint(cost)
  QString problem;  // set when the restore could not go ahead
  QStringList warnings;
};

class RestoreTask : public QObject {
  Q_OBJECT
 public:
  RestoreTask(std::string socket, RestoreRequest request, bool dry_run, QObject* parent = nullptr);
  ~RestoreTask() override;  // cancels, answers a pending conflict with Skip, waits
  void start();
  void cancel();
  // The answer to conflictAsked.
  void answer(cli::OnConflict choice, bool for_all);
  const RestoreRequest& request() const { return request_; }

 signals:
  void progress(quint64 bytes, quint64 total, quint64 files, const QString& staging_words);
  void conflictAsked(const QString& path, bool is_dir);
  void previewReady(const recall::gui::Preview& preview);
  // ok false with `message` the reason; cancelled is its own case (what was restored stays).
  void finished(bool ok, bool cancelled, const QString& message, const QStringList& warnings);

 private:
  void run();
  cli::OnConflict ask(const std::string& shown, bool is_dir);

  std::string socket_;
  RestoreRequest request_;
  bool dry_run_;
  std::atomic<bool> cancel_{false};
  QThread* thread_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<cli::OnConflict> pending_answer_;
  bool waiting_ = false;
  ConflictMemory memory_;
};

}  // namespace recall::gui

Q_DECLARE_METATYPE(recall::gui::Preview)
