// An admin's view of one route as a table (imports, cartridges, the staging queue), refreshed
// every few seconds while it is shown. Only built for admins (whoami's "admin").
#pragma once

#include <QWidget>

#include "gui/api.h"
#include "gui/json_table_model.h"

class QLabel;
class QTableView;
class QTimer;

namespace recall::gui {

class AdminPage : public QWidget {
  Q_OBJECT
 public:
  // `rows` picks the array out of the route's answer; `summary` is a line above the table.
  AdminPage(Api& api, std::string route, std::function<nlohmann::json(const nlohmann::json&)> rows,
            std::function<QString(const nlohmann::json&)> summary,
            std::vector<JsonTableModel::Column> columns, QWidget* parent = nullptr);
  void refresh();
  JsonTableModel& model() { return *model_; }

  static AdminPage* imports(Api& api, QWidget* parent);
  static AdminPage* cartridges(Api& api, QWidget* parent);
  static AdminPage* queue(Api& api, QWidget* parent);

 protected:
  void showEvent(QShowEvent* e) override;
  void hideEvent(QHideEvent* e) override;

 private:
  Api& api_;
  std::string route_;
  std::function<nlohmann::json(const nlohmann::json&)> rows_;
  std::function<QString(const nlohmann::json&)> summary_;
  JsonTableModel* model_;
  QLabel* summary_label_;
  QTableView* table_;
  QTimer* timer_;
};

}  // namespace recall::gui
