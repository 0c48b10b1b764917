// A read-only table over a JSON array (the admin views: imports, cartridges, staging queue),
// each column a title and a function from one element to its text.
#pragma once

#include <QAbstractTableModel>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

namespace recall::gui {

class JsonTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  struct Column {
    QString title;
    std::function<QString(const nlohmann::json&)> text;
    std::function<QString(const nlohmann::json&)> icon;  // icon name, optional
  };
  explicit JsonTableModel(std::vector<Column> columns, QObject* parent = nullptr);
  void set_rows(const nlohmann::json& array);
  const nlohmann::json* row(int r) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 private:
  std::vector<Column> columns_;
  std::vector<nlohmann::json> rows_;
};

}  // namespace recall::gui
