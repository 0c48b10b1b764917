#include "gui/versions_model.h"

#include "gui/formatting.h"

namespace recall::gui {

VersionsModel::VersionsModel(Api& api, QObject* parent) : QAbstractTableModel(parent), api_(api) {}

void VersionsModel::set_file(const std::string& host, const std::string& path) {
  ++generation_;
  beginResetModel();
  host_ = host;
  path_ = path;
  rows_.clear();
  changes_.clear();
  endResetModel();
  if (host.empty()) return;
  const auto gen = generation_;
  api_.get(api_target("/v1/versions", {{"host", host}, {"path", path}}), this,
           [this, gen](Result<nlohmann::json> r) {
             if (gen != generation_) return;
             if (!r.ok()) {
               emit failed(QString::fromStdString(r.error().message));
               return;
             }
             std::vector<nlohmann::json> oldest_first((*r)["versions"].begin(), (*r)["versions"].end());
             std::stable_sort(oldest_first.begin(), oldest_first.end(), [](const auto& a, const auto& b) {
               return a.value("first_seen", "") < b.value("first_seen", "");
             });
             std::vector<QString> changes;
             for (std::size_t i = 0; i < oldest_first.size(); ++i)
               changes.push_back(describe_change(i ? &oldest_first[i - 1] : nullptr, oldest_first[i]));
             beginResetModel();
             rows_.assign(oldest_first.rbegin(), oldest_first.rend());
             changes_.assign(changes.rbegin(), changes.rend());
             endResetModel();
             emit loaded();
           });
}

const nlohmann::json* VersionsModel::version(int row) const {
  return row >= 0 && row < static_cast<int>(rows_.size()) ? &rows_[static_cast<std::size_t>(row)] : nullptr;
}

std::string VersionsModel::restore_at(int row) const {
  const auto* v = version(row);
  return v ? v->value("last_seen", "") : "";
}

int VersionsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int VersionsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant VersionsModel::data(const QModelIndex& index, int role) const {
  const auto* v = index.isValid() ? version(index.row()) : nullptr;
  if (!v) return {};
  const auto row = static_cast<std::size_t>(index.row());
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case BackedUp: {
        QString first = display_time(v->value("first_seen", "")),
                last = display_time(v->value("last_seen", ""));
        if (v->value("current", false)) return tr("%1 – now").arg(first);
        return first == last ? first : tr("%1 – %2").arg(first, last);
      }
      case Size:
        return v->value("type", "") == "file" ? human_size(v->value("size", 0ull)) : QString();
      case Modified:
        return display_mtime(v->value("mtime_ns", std::int64_t{0}));
      case Change:
        return changes_[row];
    }
  }
  if (role == SortRole) {
    switch (index.column()) {
      case BackedUp:
        return QString::fromStdString(v->value("first_seen", ""));
      case Size:
        return QVariant::fromValue<qulonglong>(v->value("size", 0ull));
      case Modified:
        return QVariant::fromValue<qlonglong>(v->value("mtime_ns", std::int64_t{0}));
      case Change:
        return changes_[row];
    }
  }
  if (role == Qt::ToolTipRole)
    return tr("In %n backup(s); SHA-256 %1", nullptr, v->value("points", 0))
        .arg(QString::fromStdString(v->value("sha256", "-")));
  if (role == Qt::TextAlignmentRole && index.column() == Size)
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant VersionsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case BackedUp:
      return tr("In backups of");
    case Size:
      return tr("Size");
    case Modified:
      return tr("Modified");
    case Change:
      return tr("What changed");
  }
  return {};
}

}  // namespace recall::gui
