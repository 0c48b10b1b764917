#include "gui/progress_dialog.h"

#include <QCheckBox>
#include <QDesktopServices>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

namespace recall::gui {

ProgressDialog::ProgressDialog(std::string socket, RestoreRequest request, QWidget* parent)
    : QDialog(parent) {
  setObjectName("progressDialog");
  setWindowTitle(tr("Restoring"));
  setWindowIcon(icon("restore"));
  resize(560, 240);
  auto* layout = new QVBoxLayout(this);
  headline_ = new QLabel(request.items.size() == 1
                             ? tr("Restoring %1…")
                                   .arg(QString::fromStdString(
                                       request.items[0].path.substr(request.items[0].path.rfind('/') + 1)))
                             : tr("Restoring %1 items…").arg(request.items.size()));
  QFont f = headline_->font();
  f.setBold(true);
  headline_->setFont(f);
  layout->addWidget(headline_);
  bar_ = new QProgressBar;
  bar_->setObjectName("progressBar");
  bar_->setRange(0, 1000);
  bar_->setValue(0);
  layout->addWidget(bar_);
  numbers_ = new QLabel(tr("Starting…"));
  numbers_->setObjectName("numbers");
  layout->addWidget(numbers_);
  auto* staging_row = new QHBoxLayout;
  staging_icon_ = new QLabel;
  staging_icon_->setPixmap(icon("tape").pixmap(24, 24));
  staging_ = new QLabel;
  staging_->setObjectName("stagingWords");
  staging_->setWordWrap(true);
  staging_row->addWidget(staging_icon_);
  staging_row->addWidget(staging_, 1);
  layout->addLayout(staging_row);
  staging_icon_->hide();
  staging_->hide();
  result_ = new QLabel;
  result_->setObjectName("result");
  result_->setWordWrap(true);
  result_->hide();
  layout->addWidget(result_);
  layout->addStretch(1);

  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  open_folder_ = new QPushButton(tr("Open folder"));
  open_folder_->hide();
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setObjectName("cancelRestore");
  close_ = new QPushButton(tr("Close"));
  close_->setObjectName("closeProgress");
  close_->hide();
  buttons->addWidget(open_folder_);
  buttons->addWidget(cancel_);
  buttons->addWidget(close_);
  layout->addLayout(buttons);

  if (!request.items.empty()) folder_ = destination_of(request, request.items[0], nullptr);
  task_ = std::make_unique<RestoreTask>(std::move(socket), std::move(request), /*dry_run=*/false);
  connect(task_.get(), &RestoreTask::progress, this, &ProgressDialog::on_progress);
  connect(task_.get(), &RestoreTask::conflictAsked, this, &ProgressDialog::on_conflict);
  connect(task_.get(), &RestoreTask::finished, this, &ProgressDialog::on_finished);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    cancel_->setEnabled(false);
    numbers_->setText(tr("Cancelling…"));
    task_->cancel();
  });
  connect(close_, &QPushButton::clicked, this, &QDialog::accept);
  connect(open_folder_, &QPushButton::clicked, this,
          [this] { QDesktopServices::openUrl(QUrl::fromLocalFile(QString::fromStdString(folder_))); });
  clock_.start();
  task_->start();
}

void ProgressDialog::on_progress(quint64 bytes, quint64 total, quint64 files, const QString& words) {
  if (done_) return;
  bar_->setValue(total ? static_cast<int>(1000.0 * static_cast<double>(bytes) / static_cast<double>(total))
                       : 0);
  const double secs = std::max<double>(clock_.elapsed() / 1000.0, 0.001);
  numbers_->setText(tr("%1 of %2 · %3/s · %4")
                        .arg(human_size(bytes), human_size(total),
                             human_size(static_cast<std::uint64_t>(bytes / secs)),
                             files == 1 ? tr("1 file") : tr("%1 files").arg(files)));
  staging_->setText(words);
  staging_->setVisible(!words.isEmpty());
  staging_icon_->setVisible(!words.isEmpty());
}

void ProgressDialog::on_conflict(const QString& path, bool is_dir) {
  conflict_ = new QMessageBox(
      QMessageBox::Question, tr("A file is already there"),
      is_dir ? tr("%1 already exists and is a folder.").arg(path) : tr("%1 already exists.").arg(path),
      QMessageBox::NoButton, this);
  conflict_->setObjectName("conflictBox");
  conflict_->setInformativeText(tr("What should happen to the file from the backup?"));
  auto* both = conflict_->addButton(tr("Keep both"), QMessageBox::AcceptRole);
  both->setObjectName("keepBoth");
  auto* replace = conflict_->addButton(tr("Replace"), QMessageBox::DestructiveRole);
  replace->setObjectName("replace");
  replace->setEnabled(!is_dir);
  auto* skip = conflict_->addButton(tr("Skip"), QMessageBox::RejectRole);
  skip->setObjectName("skip");
  auto* all = new QCheckBox(tr("Do the same for all remaining conflicts"));
  all->setObjectName("forAll");
  conflict_->setCheckBox(all);
  conflict_->setDefaultButton(both);
  conflict_->setAttribute(Qt::WA_DeleteOnClose);
  connect(conflict_, &QMessageBox::buttonClicked, this, [this, both, replace, all](QAbstractButton* b) {
    auto choice = b == both      ? cli::OnConflict::Rename
                  : b == replace ? cli::OnConflict::Overwrite
                                 : cli::OnConflict::Skip;
    task_->answer(choice, all->isChecked());
    conflict_ = nullptr;
  });
  conflict_->open();
}

void ProgressDialog::on_finished(bool ok, bool cancelled, const QString& message,
                                 const QStringList& warnings) {
  done_ = true;
  ok_ = ok;
  cancel_->hide();
  close_->show();
  close_->setDefault(true);
  staging_->hide();
  staging_icon_->hide();
  if (ok) bar_->setValue(1000);
  QString text = cancelled ? tr("Cancelled. What was restored so far stays.") : message;
  if (ok && !folder_.empty()) {
    text += " " + tr("It is in %1.").arg(QString::fromStdString(folder_));
    open_folder_->show();
  }
  if (!warnings.isEmpty()) text += "\n" + tr("Notes:") + "\n• " + warnings.join("\n• ");
  result_->setText(text);
  result_->setStyleSheet(ok ? "" : "color: #b03020;");
  result_->show();
  numbers_->setVisible(ok);
  headline_->setText(ok          ? tr("Restore finished")
                     : cancelled ? tr("Restore cancelled")
                                 : tr("Restore failed"));
  emit restoreFinished(ok);
}

}  // namespace recall::gui
