#include "gui/search_model.h"

#include "cli/output.h"
#include "common/paths.h"
#include "gui/formatting.h"

namespace recall::gui {
namespace {
const char* const kSortKeys[] = {"name", "folder", "host", "at", "size", "modified", nullptr};

std::string folder_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}
}  // namespace

SearchModel::SearchModel(Api& api, QObject* parent) : QAbstractTableModel(parent), api_(api) {}

void SearchModel::set_filter(const SearchFilter& f) {
  filter_ = f;
  restart();
}

std::string SearchModel::sort_key() const {
  if (sort_column_ < 0 || sort_column_ >= Where) return "rank";
  return kSortKeys[sort_column_];
}

void SearchModel::restart() {
  ++generation_;
  beginResetModel();
  rows_.clear();
  total_ = 0;
  estimate_ = false;
  in_flight_ = false;
  endResetModel();
  if (filter_.text.empty()) return;
  emit searching();
  request_page();
}

void SearchModel::request_page() {
  if (in_flight_) return;
  in_flight_ = true;
  std::vector<std::pair<const char*, std::string>> p = {
      {"q", filter_.text}, {"offset", std::to_string(rows_.size())}, {"limit", std::to_string(kPage)}};
  if (!filter_.host.empty()) p.emplace_back("host", filter_.host);
  if (!filter_.type.empty()) p.emplace_back("type", filter_.type);
  if (filter_.after) p.emplace_back("after", iso_utc(*filter_.after));
  if (filter_.before) p.emplace_back("before", iso_utc(*filter_.before));
  if (filter_.min_size) p.emplace_back("min_size", std::to_string(*filter_.min_size));
  if (filter_.max_size) p.emplace_back("max_size", std::to_string(*filter_.max_size));
  if (sort_key() != "rank") {
    p.emplace_back("sort", sort_key());
    p.emplace_back("order", sort_order_ == Qt::DescendingOrder ? "desc" : "asc");
  }
  std::string target = "/v1/search";
  char sep = '?';
  for (const auto& [k, v] : p) {
    target += sep + std::string(k) + "=" + api_encode(v);
    sep = '&';
  }
  const auto gen = generation_;
  const bool first = rows_.empty();
  api_.get(target, this, [this, gen, first](Result<nlohmann::json> r) {
    if (gen != generation_) return;  // an answer to a query that was replaced
    if (!r.ok()) {
      in_flight_ = false;
      emit failed(QString::fromStdString(r.error().message));
      return;
    }
    // Still "in flight" while rows go in: a view may ask for more from inside the insertion.
    const auto& hits = (*r)["results"];
    if (!hits.empty()) {
      beginInsertRows({}, static_cast<int>(rows_.size()), static_cast<int>(rows_.size() + hits.size() - 1));
      for (const auto& h : hits) rows_.push_back(h);
      endInsertRows();
    }
    total_ = (*r).value("total", std::size_t{0});
    estimate_ = (*r).value("total_is_estimate", false);
    if (hits.size() < static_cast<std::size_t>(kPage)) total_ = rows_.size();  // the end came early
    in_flight_ = false;
    if (first) emit found(total_, estimate_);
  });
}

const nlohmann::json* SearchModel::hit(int row) const {
  return row >= 0 && row < static_cast<int>(rows_.size()) ? &rows_[static_cast<std::size_t>(row)] : nullptr;
}

int SearchModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int SearchModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant SearchModel::data(const QModelIndex& index, int role) const {
  const auto* h = index.isValid() ? hit(index.row()) : nullptr;
  if (!h) return {};
  const std::string type = h->value("type", "");
  const std::string path = cli::raw_bytes(*h, "path");
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Name:
        return QString::fromStdString(cli::shown(*h, "name"));
      case Folder:
        return QString::fromStdString(escape_for_display(folder_of(path)));
      case Host:
        return QString::fromStdString(h->value("host", ""));
      case Point:
        return display_time(h->value("at", ""));
      case Size:
        return type == "file" ? human_size(h->value("size", 0ull)) : QString();
      case Modified:
        return display_mtime(h->value("mtime_ns", std::int64_t{0}));
      case Where:
        return where_text(h->value("where", nlohmann::json()));
    }
  }
  if (role == Qt::DecorationRole) {
    if (index.column() == Name) return icon(type_icon_name(type));
    if (index.column() == Where) return icon(where_icon_name(h->value("where", nlohmann::json())));
  }
  if (role == Qt::ToolTipRole) {
    if (index.column() == Point)
      return tr("Backed up %1; this version first appeared %2")
          .arg(display_time(h->value("at", "")), display_time(h->value("first_seen", "")));
    return QString::fromStdString(h->value("host", "") + ":" + escape_for_display(path));
  }
  if (role == Qt::TextAlignmentRole && index.column() == Size)
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant SearchModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Name:
      return tr("Name");
    case Folder:
      return tr("Folder");
    case Host:
      return tr("Computer");
    case Point:
      return tr("Backup of");
    case Size:
      return tr("Size");
    case Modified:
      return tr("Modified");
    case Where:
      return tr("Stored on");
  }
  return {};
}

bool SearchModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && !in_flight_ && !filter_.text.empty() && rows_.size() < total_;
}

void SearchModel::fetchMore(const QModelIndex& parent) {
  if (canFetchMore(parent)) request_page();
}

void SearchModel::sort(int column, Qt::SortOrder order) {
  if (column == sort_column_ && order == sort_order_) return;
  sort_column_ = column;
  sort_order_ = order;
  restart();
}

}  // namespace recall::gui
