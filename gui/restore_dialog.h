// "Restore N items": where to (where it was, or a chosen folder), what to do with files that
// are already there, the cost hint ("3 files, 412 MB, 2 tapes, about 14 min") and a preview of
// what will be written, replaced or skipped, refreshed whenever a choice changes.
#pragma once

#include <QDialog>
#include <memory>

#include "gui/restore_task.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QTreeWidget;
class QTimer;

namespace recall::gui {

class RestoreDialog : public QDialog {
  Q_OBJECT
 public:
  RestoreDialog(std::string socket, std::vector<RestoreItem> items, const QString& last_folder,
                QWidget* parent);
  RestoreRequest request() const;
  bool preview_ready() const { return preview_ready_; }

 signals:
  void restoreRequested(const recall::gui::RestoreRequest& request);

 private:
  void refresh_preview();
  void show_preview(const Preview& p);

  std::string socket_;
  std::vector<RestoreItem> items_;
  QRadioButton* to_original_;
  QRadioButton* to_folder_;
  QLineEdit* folder_;
  QComboBox* conflict_;
  QLabel* cost_;
  QLabel* problem_;
  QTreeWidget* preview_;
  QPushButton* restore_;
  QTimer* debounce_;
  std::unique_ptr<RestoreTask> preview_task_;
  bool preview_ready_ = false;
};

}  // namespace recall::gui
