#include "gui/browse_page.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTreeView>
#include <QVBoxLayout>

#include "gui/formatting.h"

namespace recall::gui {

BrowsePage::BrowsePage(Api& api, QWidget* parent) : QWidget(parent), api_(api) {
  model_ = new PointTreeModel(api, this);
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Computer:")));
  host_ = new QComboBox;
  host_->setObjectName("browseHost");
  host_->setMinimumWidth(180);
  top->addWidget(host_);
  top->addSpacing(16);
  point_label_ = new QLabel;
  point_label_->setObjectName("pointLabel");
  QFont f = point_label_->font();
  f.setBold(true);
  point_label_->setFont(f);
  top->addWidget(point_label_, 1);
  layout->addLayout(top);

  auto* line = new QGridLayout;
  older_ = new QPushButton(tr("◀ Older"));
  newer_ = new QPushButton(tr("Newer ▶"));
  older_->setObjectName("olderPoint");
  newer_->setObjectName("newerPoint");
  timeline_ = new QSlider(Qt::Horizontal);
  timeline_->setObjectName("timeline");
  timeline_->setTickPosition(QSlider::TicksBelow);
  timeline_->setTickInterval(1);
  timeline_->setPageStep(1);
  timeline_->setToolTip(tr("Each mark is one backup. Drag to go back in time."));
  first_label_ = new QLabel;
  last_label_ = new QLabel;
  last_label_->setAlignment(Qt::AlignRight);
  line->addWidget(older_, 0, 0);
  line->addWidget(timeline_, 0, 1, 1, 2);
  line->addWidget(newer_, 0, 3);
  line->addWidget(first_label_, 1, 1);
  line->addWidget(last_label_, 1, 2);
  layout->addLayout(line);

  tree_ = new QTreeView;
  tree_->setObjectName("pointTree");
  tree_->setModel(model_);
  tree_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  tree_->setUniformRowHeights(true);
  tree_->setAlternatingRowColors(true);
  tree_->header()->resizeSection(PointTreeModel::Name, 420);
  tree_->header()->resizeSection(PointTreeModel::Size, 100);
  layout->addWidget(tree_, 1);

  auto* bottom = new QHBoxLayout;
  bottom->addStretch(1);
  restore_ = new QPushButton(icon("restore"), tr("Restore…"));
  restore_->setObjectName("browseRestore");
  restore_->setEnabled(false);
  bottom->addWidget(restore_);
  layout->addLayout(bottom);

  connect(host_, &QComboBox::currentIndexChanged, this, [this] {
    load_points();
    emit hostChosen(host());
  });
  connect(timeline_, &QSlider::valueChanged, this, &BrowsePage::show_point);
  connect(older_, &QPushButton::clicked, this, [this] { timeline_->setValue(timeline_->value() - 1); });
  connect(newer_, &QPushButton::clicked, this, [this] { timeline_->setValue(timeline_->value() + 1); });
  connect(tree_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          [this] { restore_->setEnabled(!selection().empty()); });
  connect(restore_, &QPushButton::clicked, this, &BrowsePage::restoreClicked);
  connect(model_, &PointTreeModel::failed, this, [this](const QString& m) { point_label_->setText(m); });
}

QString BrowsePage::host() const { return host_->currentText(); }

void BrowsePage::set_hosts(const QStringList& hosts, const QString& preferred) {
  QString keep = host_->count() ? host_->currentText() : preferred;
  QSignalBlocker block(host_);
  host_->clear();
  for (const auto& h : hosts) host_->addItem(icon("host"), h);
  int i = host_->findText(keep);
  host_->setCurrentIndex(i >= 0 ? i : 0);
  block.unblock();
  load_points();
}

void BrowsePage::load_points() {
  const std::string h = host().toStdString();
  if (h.empty()) return;
  api_.get(api_target("/v1/points", {{"host", h}}), this, [this, h](Result<nlohmann::json> r) {
    if (h != host().toStdString()) return;
    if (!r.ok()) {
      point_label_->setText(QString::fromStdString(r.error().message));
      return;
    }
    points_ = (*r)["points"];
    const int n = static_cast<int>(points_.size());
    QSignalBlocker block(timeline_);
    timeline_->setRange(0, std::max(0, n - 1));
    timeline_->setValue(n - 1);
    block.unblock();
    first_label_->setText(n ? display_time(points_[0].value("at", "")) : QString());
    last_label_->setText(n ? display_time(points_[n - 1].value("at", "")) : QString());
    show_point(n - 1);
  });
}

void BrowsePage::show_point(int index) {
  if (index < 0 || index >= static_cast<int>(points_.size())) {
    point_label_->setText(tr("No backups of this computer yet."));
    model_->set_point("", "");
    return;
  }
  const auto& p = points_[static_cast<std::size_t>(index)];
  const std::string at = p.value("at", "");
  const int n = static_cast<int>(points_.size());
  point_label_->setText(tr("Backup of %1 (%2 of %3%4)")
                            .arg(display_time(at))
                            .arg(index + 1)
                            .arg(n)
                            .arg(index == n - 1 ? tr(", the newest") : QString()));
  older_->setEnabled(index > 0);
  newer_->setEnabled(index < n - 1);
  model_->set_point(host().toStdString(), at);
}

std::vector<RestoreItem> BrowsePage::selection() const {
  std::vector<RestoreItem> out;
  for (const auto& idx : tree_->selectionModel()->selectedRows()) {
    const auto* e = model_->entry(idx);
    if (!e) continue;
    out.push_back(
        {model_->host(), model_->at(), model_->path_of(idx), e->value("type", ""), e->value("size", 0ull)});
  }
  return out;
}

}  // namespace recall::gui
