#include "gui/point_tree_model.h"

#include "cli/output.h"
#include "common/paths.h"
#include "gui/formatting.h"

namespace recall::gui {

PointTreeModel::PointTreeModel(Api& api, QObject* parent) : QAbstractItemModel(parent), api_(api) {
  root_ = std::make_unique<Node>();
  root_->path = "/";
  root_->entry = {{"type", "dir"}};
  root_->fetched = true;  // nothing to show until a point is chosen
}

void PointTreeModel::set_point(const std::string& host, const std::string& at) {
  ++generation_;
  beginResetModel();
  host_ = host;
  at_ = at;
  root_ = std::make_unique<Node>();
  root_->path = "/";
  root_->entry = {{"type", "dir"}};
  root_->fetched = host.empty();
  endResetModel();
  if (!host.empty()) fetchMore({});
}

PointTreeModel::Node* PointTreeModel::node(const QModelIndex& index) const {
  return index.isValid() ? static_cast<Node*>(index.internalPointer()) : root_.get();
}

QModelIndex PointTreeModel::index_of(Node* n) const {
  return n == root_.get() || !n ? QModelIndex() : createIndex(n->row, 0, n);
}

std::string PointTreeModel::path_of(const QModelIndex& index) const { return node(index)->path; }

const nlohmann::json* PointTreeModel::entry(const QModelIndex& index) const {
  return index.isValid() ? &node(index)->entry : nullptr;
}

QModelIndex PointTreeModel::index(int row, int column, const QModelIndex& parent) const {
  Node* p = node(parent);
  if (row < 0 || column < 0 || column >= ColumnCount || row >= static_cast<int>(p->children.size()))
    return {};
  return createIndex(row, column, p->children[static_cast<std::size_t>(row)].get());
}

QModelIndex PointTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  return index_of(node(child)->parent);
}

int PointTreeModel::rowCount(const QModelIndex& parent) const {
  if (parent.column() > 0) return 0;
  return static_cast<int>(node(parent)->children.size());
}

int PointTreeModel::columnCount(const QModelIndex&) const { return ColumnCount; }

bool PointTreeModel::hasChildren(const QModelIndex& parent) const {
  Node* n = node(parent);
  if (!n->is_dir() || parent.column() > 0) return false;
  return !n->fetched || !n->children.empty();
}

bool PointTreeModel::canFetchMore(const QModelIndex& parent) const {
  Node* n = node(parent);
  return n->is_dir() && !n->fetched && !n->fetching && !host_.empty();
}

void PointTreeModel::fetchMore(const QModelIndex& parent) {
  if (!canFetchMore(parent)) return;
  Node* n = node(parent);
  n->fetching = true;
  const auto gen = generation_;
  api_.get(api_target("/v1/ls", {{"host", host_}, {"at", at_}, {"path", n->path}}), this,
           [this, gen, n](Result<nlohmann::json> r) {
             if (gen != generation_) return;  // n belongs to a tree that is gone
             n->fetching = false;
             n->fetched = true;
             QModelIndex parent = index_of(n);
             if (!r.ok()) {
               n->error = QString::fromStdString(r.error().message);
               emit dataChanged(parent, parent);
               if (n == root_.get()) emit failed(n->error);
               return;
             }
             const auto& entries = (*r)["entries"];
             if (!entries.empty()) {
               // Folders first, then by name, as file managers show them.
               std::vector<const nlohmann::json*> sorted;
               for (const auto& e : entries) sorted.push_back(&e);
               std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
                 return (a->value("type", "") == "dir") > (b->value("type", "") == "dir");
               });
               beginInsertRows(parent, 0, static_cast<int>(sorted.size()) - 1);
               for (const auto* e : sorted) {
                 auto c = std::make_unique<Node>();
                 std::string name = cli::raw_bytes(*e, "name");  // exact bytes: the next request
                 c->path = n->path == "/" ? "/" + name : n->path + "/" + name;
                 c->entry = *e;
                 c->parent = n;
                 c->row = static_cast<int>(n->children.size());
                 n->children.push_back(std::move(c));
               }
               endInsertRows();
             } else {
               emit dataChanged(parent, parent);  // hasChildren changed: no expander any more
             }
             emit listed(parent);
           });
}

QVariant PointTreeModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  Node* n = node(index);
  const auto& e = n->entry;
  const std::string type = e.value("type", "");
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Name:
        return QString::fromStdString(cli::shown(e, "name"));
      case Size:
        return type == "file" ? human_size(e.value("size", 0ull)) : QString();
      case Modified:
        return e.contains("mtime_ns") ? display_mtime(e.value("mtime_ns", std::int64_t{0})) : QString();
    }
  }
  if (role == Qt::DecorationRole && index.column() == Name)
    return icon(!n->error.isEmpty() ? QStringLiteral("unavailable") : type_icon_name(type));
  if (role == Qt::ToolTipRole)
    return n->error.isEmpty() ? QString::fromStdString(escape_for_display(n->path)) : n->error;
  if (role == Qt::TextAlignmentRole && index.column() == Size)
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant PointTreeModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Name:
      return tr("Name");
    case Size:
      return tr("Size");
    case Modified:
      return tr("Modified");
  }
  return {};
}

}  // namespace recall::gui
