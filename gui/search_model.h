// Search results as a table, fetched page by page from GET /v1/search as the view scrolls
// (canFetchMore/fetchMore), so 100,000 hits never sit in one answer. Sorting is done by recalld
// (`sort`, `order`): a proxy could only sort the pages already here. A new query or order starts
// a new generation; answers to an older one are dropped, so a slow stale query never overwrites
// a fresh one.
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <optional>
#include <vector>

#include "gui/api.h"

namespace recall::gui {

struct SearchFilter {
  std::string text;
  std::string host;  // "" = every host
  std::string type;  // "" = any, "file", "dir"
  std::optional<QDateTime> after, before;
  std::optional<std::uint64_t> min_size, max_size;
  bool operator==(const SearchFilter&) const = default;
};

class SearchModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Name, Folder, Host, Point, Size, Modified, Where, ColumnCount };
  static constexpr int kPage = 200;

  explicit SearchModel(Api& api, QObject* parent = nullptr);

  void set_filter(const SearchFilter& f);  // runs the query (an empty text clears the table)
  const SearchFilter& filter() const { return filter_; }
  const nlohmann::json* hit(int row) const;  // the API's hit object
  std::size_t total() const { return total_; }
  bool total_is_estimate() const { return estimate_; }
  bool loading() const { return in_flight_; }
  std::string sort_key() const;  // as sent to recalld ("rank" when unsorted)

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;
  void sort(int column, Qt::SortOrder order) override;

 signals:
  void searching();                              // a new query started
  void found(std::size_t total, bool estimate);  // its first page arrived
  void failed(const QString& message);           // recalld said no (bad pattern, unknown host...)

 private:
  void restart();
  void request_page();

  Api& api_;
  SearchFilter filter_;
  int sort_column_ = -1;  // -1: recalld's ranking
  Qt::SortOrder sort_order_ = Qt::AscendingOrder;
  std::vector<nlohmann::json> rows_;
  std::size_t total_ = 0;
  bool estimate_ = false;
  bool in_flight_ = false;
  std::uint64_t generation_ = 0;
};

}  // namespace recall::gui
