#include "gui/json_table_model.h"

#include "gui/formatting.h"

namespace recall::gui {

JsonTableModel::JsonTableModel(std::vector<Column> columns, QObject* parent)
    : QAbstractTableModel(parent), columns_(std::move(columns)) {}

void JsonTableModel::set_rows(const nlohmann::json& array) {
  beginResetModel();
  rows_.clear();
  if (array.is_array())
    for (const auto& e : array) rows_.push_back(e);
  endResetModel();
}

const nlohmann::json* JsonTableModel::row(int r) const {
  return r >= 0 && r < static_cast<int>(rows_.size()) ? &rows_[static_cast<std::size_t>(r)] : nullptr;
}

int JsonTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int JsonTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(columns_.size());
}

QVariant JsonTableModel::data(const QModelIndex& index, int role) const {
  const auto* r = index.isValid() ? row(index.row()) : nullptr;
  if (!r || index.column() >= static_cast<int>(columns_.size())) return {};
  const auto& c = columns_[static_cast<std::size_t>(index.column())];
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole) return c.text(*r);
  if (role == Qt::DecorationRole && c.icon) return icon(c.icon(*r));
  return {};
}

QVariant JsonTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole || section >= static_cast<int>(columns_.size()))
    return {};
  return columns_[static_cast<std::size_t>(section)].title;
}

}  // namespace recall::gui
