// Every distinct version of one file (GET /v1/versions), newest first, with what changed from
// the version before it, so "the version before it got corrupted" is easy to find. Small: sorted
// through a QSortFilterProxyModel on SortRole (raw values) while the display shows words.
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "gui/api.h"

namespace recall::gui {

class VersionsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { BackedUp, Size, Modified, Change, ColumnCount };
  static constexpr int SortRole = Qt::UserRole + 1;
  explicit VersionsModel(Api& api, QObject* parent = nullptr);

  void set_file(const std::string& host, const std::string& path);  // "" clears
  const std::string& host() const { return host_; }
  const std::string& path() const { return path_; }
  const nlohmann::json* version(int row) const;
  // The point to restore row's version from: the newest point that still holds it.
  std::string restore_at(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 signals:
  void loaded();
  void failed(const QString& message);

 private:
  Api& api_;
  std::string host_, path_;
  std::vector<nlohmann::json> rows_;  // newest first
  std::vector<QString> changes_;
  std::uint64_t generation_ = 0;
};

}  // namespace recall::gui
