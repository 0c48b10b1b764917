// "Find files": a search field that searches as you type (debounced; stale answers dropped by
// the model), filters for computer, time, type and size, the results table, and the versions
// of the selected file.
#pragma once

#include <QWidget>

#include "gui/restore_task.h"
#include "gui/search_model.h"
#include "gui/versions_model.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;
class QTimer;

namespace recall::gui {

class SearchPage : public QWidget {
  Q_OBJECT
 public:
  explicit SearchPage(Api& api, QWidget* parent = nullptr);
  void set_hosts(const QStringList& hosts);
  // What Restore acts on: the selected version when one is picked, else the selected results.
  std::vector<RestoreItem> selection() const;
  SearchFilter current_filter() const;
  QSplitter* splitter() const { return splitter_; }
  SearchModel& model() { return *model_; }
  VersionsModel& versions() { return *versions_; }
  QLineEdit* field() const { return field_; }

 signals:
  void restoreClicked();
  void selectionChanged();

 private:
  void run_query();
  void on_result_selected();
  void update_status();

  SearchModel* model_;
  VersionsModel* versions_;
  QSortFilterProxyModel* versions_sorted_;
  QLineEdit* field_;
  QComboBox* host_;
  QComboBox* when_;
  QComboBox* type_;
  QComboBox* size_;
  QLabel* status_;
  QLabel* versions_title_;
  QTableView* results_;
  QTableView* versions_view_;
  QPushButton* restore_;
  QSplitter* splitter_;
  QTimer* debounce_;
};

}  // namespace recall::gui
