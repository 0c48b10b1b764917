// A running restore: bytes, rate, files, and, while data comes from tape, what it waits for in
// plain words. Asks what to do when a file is already there. Cancel stops between two writes.
#pragma once

#include <QDialog>
#include <QElapsedTimer>
#include <memory>

#include "gui/restore_task.h"

class QCheckBox;
class QLabel;
class QMessageBox;
class QProgressBar;
class QPushButton;

namespace recall::gui {

class ProgressDialog : public QDialog {
  Q_OBJECT
 public:
  ProgressDialog(std::string socket, RestoreRequest request, QWidget* parent);
  bool finished_restore() const { return done_; }
  bool succeeded() const { return ok_; }
  QMessageBox* conflict_box() const { return conflict_; }

 signals:
  void restoreFinished(bool ok);

 private:
  void on_progress(quint64 bytes, quint64 total, quint64 files, const QString& words);
  void on_conflict(const QString& path, bool is_dir);
  void on_finished(bool ok, bool cancelled, const QString& message, const QStringList& warnings);

  std::unique_ptr<RestoreTask> task_;
  QLabel* headline_;
  QProgressBar* bar_;
  QLabel* numbers_;
  QLabel* staging_;
  QLabel* staging_icon_;
  QLabel* result_;
  QPushButton* cancel_;
  QPushButton* open_folder_;
  QPushButton* close_;
  QMessageBox* conflict_ = nullptr;
  QElapsedTimer clock_;
  std::string folder_;
  bool done_ = false, ok_ = false;
};

}  // namespace recall::gui
