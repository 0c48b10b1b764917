#include "gui/restore_task.h"

#include <sys/stat.h>

#include <QCoreApplication>

namespace recall::gui {
namespace {
QString tr(const char* s) { return QCoreApplication::translate("recall::gui::RestoreTask", s); }

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}
}  // namespace

std::string destination_of(const RestoreRequest& r, const RestoreItem& item, QString* problem) {
  std::string dest = r.to_original ? parent_of(item.path) : r.folder;
  struct stat st {};
  if (dest.empty() || stat(dest.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    if (problem)
      *problem =
          r.to_original
              ? tr("The original folder %1 does not exist on this computer: choose a folder "
                   "to restore into.")
                    .arg(QString::fromStdString(dest))
              : tr("The folder %1 does not exist: choose another one.").arg(QString::fromStdString(dest));
    return {};
  }
  return dest;
}

RestoreTask::RestoreTask(std::string socket, RestoreRequest request, bool dry_run, QObject* parent)
    : QObject(parent), socket_(std::move(socket)), request_(std::move(request)), dry_run_(dry_run) {
  qRegisterMetaType<recall::gui::Preview>();
}

RestoreTask::~RestoreTask() {
  cancel();
  if (thread_) {
    thread_->wait();
    delete thread_;
  }
}

void RestoreTask::start() {
  thread_ = QThread::create([this] { run(); });
  thread_->start();
}

void RestoreTask::cancel() {
  cancel_ = true;
  std::lock_guard lk(mu_);
  if (waiting_ && !pending_answer_) pending_answer_ = cli::OnConflict::Skip;
  cv_.notify_all();
}

void RestoreTask::answer(cli::OnConflict choice, bool for_all) {
  std::lock_guard lk(mu_);
  memory_.answer(choice, for_all);
  pending_answer_ = choice;
  cv_.notify_all();
}

cli::OnConflict RestoreTask::ask(const std::string& shown, bool is_dir) {
  std::unique_lock lk(mu_);
  if (auto r = memory_.remembered()) return *r;
  if (cancel_) return cli::OnConflict::Skip;
  pending_answer_.reset();
  waiting_ = true;
  QMetaObject::invokeMethod(
      this, [this, p = QString::fromStdString(shown), is_dir] { emit conflictAsked(p, is_dir); },
      Qt::QueuedConnection);
  cv_.wait(lk, [this] { return pending_answer_.has_value(); });
  waiting_ = false;
  return *pending_answer_;
}

void RestoreTask::run() {
  Preview preview;
  QStringList warnings;
  QString failure;
  bool cancelled = false;
  std::uint64_t done_bytes = 0, done_files = 0, all_bytes = 0;
  for (const auto& it : request_.items) all_bytes += it.size;
  cli::Context ctx;
  ctx.socket = socket_;
  for (const auto& item : request_.items) {
    QString problem;
    std::string dest = destination_of(request_, item, &problem);
    if (dest.empty()) {
      failure = problem;
      break;
    }
    cli::RestoreOptions o;
    o.host = item.host;
    o.at = item.at;
    o.path = item.path;
    o.dest = dest;
    o.on_conflict = request_.on_conflict;
    o.dry_run = dry_run_;
    o.estimate = dry_run_;
    o.catch_signals = false;
    o.cancel = &cancel_;
    o.ask = [this](const std::string& shown, bool is_dir) { return ask(shown, is_dir); };
    const std::uint64_t base_bytes = done_bytes, base_files = done_files;
    o.on_progress = [this, base_bytes, base_files, all_bytes](const cli::RestoreProgress& p) {
      QMetaObject::invokeMethod(
          this,
          [this, b = base_bytes + p.bytes, t = std::max(all_bytes, base_bytes + p.total_bytes),
           f = base_files + p.files,
           w = QString::fromStdString(p.staging_words)] { emit progress(b, t, f, w); },
          Qt::QueuedConnection);
    };
    cli::Restorer restorer(ctx, o);
    auto r = restorer.run();
    if (!r.ok()) {
      cancelled = r.error().kind == ErrorKind::Cancelled;
      failure = QString::fromStdString(r.error().message);
      break;
    }
    done_bytes += r->bytes;
    done_files += r->files;
    for (const auto& w : r->warnings) warnings << QString::fromStdString(w);
    for (const auto& p : r->plan)
      preview.lines.push_back({QString::fromStdString(p.value("action", "")),
                               QString::fromStdString(p.value("path", "")),
                               QString::fromStdString(p.value("to", ""))});
    if (!r->estimate.is_null()) preview.cost.add(r->estimate);
    if (cancel_) {
      cancelled = true;
      break;
    }
  }
  if (dry_run_) {
    if (preview.cost.files == 0) {  // recalld had nothing to estimate (no files, or no tape bridge)
      preview.cost.files = done_files;
      preview.cost.bytes = done_bytes;
    }
    preview.hint = cost_hint(preview.cost);
    preview.problem = failure;
    preview.warnings = warnings;
    QMetaObject::invokeMethod(
        this, [this, preview] { emit previewReady(preview); }, Qt::QueuedConnection);
    return;
  }
  QString message =
      failure.isEmpty()
          ? tr("Restored %1 (%2).")
                .arg(done_files == 1 ? tr("1 file") : tr("%1 files").arg(done_files), human_size(done_bytes))
          : failure;
  const bool ok = failure.isEmpty();
  QMetaObject::invokeMethod(
      this, [this, ok, cancelled, message, warnings] { emit finished(ok, cancelled, message, warnings); },
      Qt::QueuedConnection);
}

}  // namespace recall::gui
