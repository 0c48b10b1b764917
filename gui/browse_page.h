// "Browse backups": pick a computer, move along its backups on a slider with every backup
// marked, and browse the tree as it was then (the same access rules as everywhere).
#pragma once

#include <QWidget>
#include <nlohmann/json.hpp>

#include "gui/point_tree_model.h"
#include "gui/restore_task.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTreeView;

namespace recall::gui {

class BrowsePage : public QWidget {
  Q_OBJECT
 public:
  BrowsePage(Api& api, QWidget* parent = nullptr);
  void set_hosts(const QStringList& hosts, const QString& preferred);
  QString host() const;
  std::vector<RestoreItem> selection() const;
  QSlider* timeline() const { return timeline_; }
  PointTreeModel& model() { return *model_; }

 signals:
  void restoreClicked();
  void hostChosen(const QString& host);

 private:
  void load_points();
  void show_point(int index);

  Api& api_;
  PointTreeModel* model_;
  QComboBox* host_;
  QSlider* timeline_;
  QLabel* point_label_;
  QLabel* first_label_;
  QLabel* last_label_;
  QPushButton* older_;
  QPushButton* newer_;
  QTreeView* tree_;
  QPushButton* restore_;
  nlohmann::json points_ = nlohmann::json::array();
};

}  // namespace recall::gui
