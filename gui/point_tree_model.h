// The tree of one point of one host (GET /v1/ls), loaded a directory at a time when the view
// expands it (canFetchMore/fetchMore). What the caller may not list shows as a locked folder.
#pragma once

#include <QAbstractItemModel>
#include <memory>
#include <vector>

#include "gui/api.h"

namespace recall::gui {

class PointTreeModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { Name, Size, Modified, ColumnCount };
  explicit PointTreeModel(Api& api, QObject* parent = nullptr);

  void set_point(const std::string& host, const std::string& at);  // clears and lists "/"
  const std::string& host() const { return host_; }
  const std::string& at() const { return at_; }
  std::string path_of(const QModelIndex& index) const;
  const nlohmann::json* entry(const QModelIndex& index) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  bool hasChildren(const QModelIndex& parent = {}) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;

 signals:
  void failed(const QString& message);
  void listed(const QModelIndex& parent);

 private:
  struct Node {
    std::string path;
    nlohmann::json entry;
    Node* parent = nullptr;
    int row = 0;
    std::vector<std::unique_ptr<Node>> children;
    bool fetched = false, fetching = false;
    QString error;  // why it could not be listed
    bool is_dir() const { return entry.value("type", "") == "dir"; }
  };
  Node* node(const QModelIndex& index) const;
  QModelIndex index_of(Node* n) const;

  Api& api_;
  std::string host_, at_;
  std::unique_ptr<Node> root_;
  std::uint64_t generation_ = 0;
};

}  // namespace recall::gui
