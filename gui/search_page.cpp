#include "gui/search_page.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "cli/output.h"
#include "common/paths.h"
#include "gui/formatting.h"

namespace recall::gui {
namespace {
constexpr int kDebounceMs = 250;

QTableView* make_table(QWidget* parent, const char* name) {
  auto* t = new QTableView(parent);
  t->setObjectName(name);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setAlternatingRowColors(true);
  t->setShowGrid(false);
  t->verticalHeader()->hide();
  t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 10);
  t->horizontalHeader()->setHighlightSections(false);
  t->setWordWrap(false);
  t->setTabKeyNavigation(false);
  return t;
}
}  // namespace

SearchPage::SearchPage(Api& api, QWidget* parent) : QWidget(parent) {
  model_ = new SearchModel(api, this);
  versions_ = new VersionsModel(api, this);
  auto* layout = new QVBoxLayout(this);

  field_ = new QLineEdit;
  field_->setObjectName("searchField");
  field_->setPlaceholderText(tr("Type part of a file name, for example: budget"));
  field_->setClearButtonEnabled(true);
  field_->addAction(icon("search"), QLineEdit::LeadingPosition);
  QFont big = field_->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  field_->setFont(big);
  layout->addWidget(field_);

  auto* filters = new QHBoxLayout;
  host_ = new QComboBox;
  host_->setObjectName("hostFilter");
  host_->addItem(icon("host"), tr("All computers"), QString());
  when_ = new QComboBox;
  when_->setObjectName("timeFilter");
  when_->addItem(tr("Any time"), 0);
  when_->addItem(tr("Backed up in the last day"), 1);
  when_->addItem(tr("In the last 7 days"), 7);
  when_->addItem(tr("In the last 30 days"), 30);
  when_->addItem(tr("In the last 12 months"), 365);
  when_->addItem(tr("More than 30 days ago"), -30);
  type_ = new QComboBox;
  type_->setObjectName("typeFilter");
  type_->addItem(tr("Files and folders"), QString());
  type_->addItem(icon("file"), tr("Files only"), QString("file"));
  type_->addItem(icon("folder"), tr("Folders only"), QString("dir"));
  size_ = new QComboBox;
  size_->setObjectName("sizeFilter");
  size_->addItem(tr("Any size"), 0);
  size_->addItem(tr("Under 1 MB"), 1);
  size_->addItem(tr("1 MB to 100 MB"), 2);
  size_->addItem(tr("Over 100 MB"), 3);
  for (auto* w : {host_, when_, type_, size_}) filters->addWidget(w);
  filters->addStretch(1);
  status_ = new QLabel;
  status_->setObjectName("searchStatus");
  filters->addWidget(status_);
  layout->addLayout(filters);

  splitter_ = new QSplitter(Qt::Vertical);
  splitter_->setObjectName("searchSplitter");
  results_ = make_table(this, "results");
  results_->setModel(model_);
  results_->setSortingEnabled(true);
  results_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
  results_->horizontalHeader()->setSortIndicatorShown(true);
  results_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  auto* rh = results_->horizontalHeader();
  rh->setSectionResizeMode(QHeaderView::Interactive);
  rh->resizeSection(SearchModel::Name, 240);
  rh->resizeSection(SearchModel::Folder, 260);
  rh->resizeSection(SearchModel::Host, 110);
  rh->resizeSection(SearchModel::Point, 170);
  rh->resizeSection(SearchModel::Size, 90);
  rh->resizeSection(SearchModel::Modified, 170);
  rh->setStretchLastSection(true);
  splitter_->addWidget(results_);

  auto* vbox = new QWidget;
  auto* vl = new QVBoxLayout(vbox);
  vl->setContentsMargins(0, 6, 0, 0);
  versions_title_ = new QLabel(tr("Select a file to see all its versions."));
  versions_title_->setObjectName("versionsTitle");
  vl->addWidget(versions_title_);
  versions_sorted_ = new QSortFilterProxyModel(this);
  versions_sorted_->setSourceModel(versions_);
  versions_sorted_->setSortRole(VersionsModel::SortRole);
  versions_view_ = make_table(vbox, "versions");
  versions_view_->setModel(versions_sorted_);
  versions_view_->setSortingEnabled(true);
  versions_view_->sortByColumn(VersionsModel::BackedUp, Qt::DescendingOrder);
  versions_view_->setSelectionMode(QAbstractItemView::SingleSelection);
  versions_view_->horizontalHeader()->resizeSection(VersionsModel::BackedUp, 330);
  versions_view_->horizontalHeader()->resizeSection(VersionsModel::Size, 90);
  versions_view_->horizontalHeader()->resizeSection(VersionsModel::Modified, 170);
  versions_view_->horizontalHeader()->setStretchLastSection(true);
  vl->addWidget(versions_view_);
  splitter_->addWidget(vbox);
  splitter_->setStretchFactor(0, 3);
  splitter_->setStretchFactor(1, 2);
  layout->addWidget(splitter_, 1);

  auto* bottom = new QHBoxLayout;
  auto* hint = new QLabel(tr("You see only files you could open when they were backed up."));
  hint->setStyleSheet("color: palette(mid);");
  bottom->addWidget(hint, 1);
  restore_ = new QPushButton(icon("restore"), tr("Restore…"));
  restore_->setObjectName("restoreButton");
  restore_->setEnabled(false);
  restore_->setDefault(true);
  bottom->addWidget(restore_);
  layout->addLayout(bottom);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(kDebounceMs);
  connect(debounce_, &QTimer::timeout, this, &SearchPage::run_query);
  connect(field_, &QLineEdit::textChanged, this, [this] { debounce_->start(); });
  connect(field_, &QLineEdit::returnPressed, this, [this] {
    debounce_->stop();
    run_query();
    results_->setFocus();
  });
  for (auto* c : {host_, when_, type_, size_})
    connect(c, &QComboBox::currentIndexChanged, this, &SearchPage::run_query);
  connect(model_, &SearchModel::searching, this, &SearchPage::update_status);
  connect(model_, &SearchModel::found, this, &SearchPage::update_status);
  connect(model_, &SearchModel::modelReset, this, &SearchPage::update_status);
  connect(model_, &SearchModel::failed, this, [this](const QString& m) { status_->setText(m); });
  connect(results_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &SearchPage::on_result_selected);
  connect(versions_view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    restore_->setEnabled(!selection().empty());
    emit selectionChanged();
  });
  connect(versions_, &VersionsModel::loaded, this, [this] {
    versions_title_->setText(
        tr("Versions of <b>%1</b> on %2: pick one to restore it")
            .arg(QString::fromStdString(escape_for_display(versions_->path())).toHtmlEscaped(),
                 QString::fromStdString(versions_->host()).toHtmlEscaped()));
  });
  connect(versions_, &VersionsModel::failed, this, [this](const QString& m) { versions_title_->setText(m); });
  connect(restore_, &QPushButton::clicked, this, &SearchPage::restoreClicked);
  connect(results_, &QTableView::activated, this, &SearchPage::restoreClicked);
  update_status();
}

void SearchPage::set_hosts(const QStringList& hosts) {
  QString keep = host_->currentData().toString();
  QSignalBlocker block(host_);
  while (host_->count() > 1) host_->removeItem(1);
  for (const auto& h : hosts) host_->addItem(icon("host"), h, h);
  host_->setCurrentIndex(std::max(0, host_->findData(keep)));
}

SearchFilter SearchPage::current_filter() const {
  SearchFilter f;
  f.text = field_->text().trimmed().toStdString();
  f.host = host_->currentData().toString().toStdString();
  f.type = type_->currentData().toString().toStdString();
  const int days = when_->currentData().toInt();
  const auto now = QDateTime::currentDateTimeUtc();
  if (days > 0) f.after = now.addDays(-days);
  if (days < 0) f.before = now.addDays(days);
  switch (size_->currentData().toInt()) {
    case 1:
      f.max_size = 1000 * 1000 - 1;
      break;
    case 2:
      f.min_size = 1000 * 1000, f.max_size = 100ull * 1000 * 1000;
      break;
    case 3:
      f.min_size = 100ull * 1000 * 1000 + 1;
      break;
  }
  return f;
}

void SearchPage::run_query() {
  auto f = current_filter();
  if (f == model_->filter() && !f.after && !f.before)
    return;  // nothing changed (a time range moves with now)
  versions_->set_file("", "");
  versions_title_->setText(tr("Select a file to see all its versions."));
  model_->set_filter(f);
}

void SearchPage::update_status() {
  if (model_->filter().text.empty()) {
    status_->setText(tr("Type at least one letter to search"));
  } else if (model_->loading() && model_->rowCount() == 0) {
    status_->setText(tr("Searching…"));
  } else if (model_->total() == 0) {
    status_->setText(tr("Nothing found. Try fewer letters or other filters."));
  } else {
    status_->setText((model_->total_is_estimate() ? tr("About %1 found") : tr("%1 found"))
                         .arg(QLocale().toString(static_cast<qulonglong>(model_->total()))));
  }
}

void SearchPage::on_result_selected() {
  auto rows = results_->selectionModel()->selectedRows();
  if (rows.size() == 1) {
    const auto* h = model_->hit(rows[0].row());
    if (h && h->value("type", "") != "dir") {
      versions_->set_file(h->value("host", ""), cli::raw_bytes(*h, "path"));
    } else {
      versions_->set_file("", "");
      versions_title_->setText(
          tr("Folders have no versions list: restore the folder as it was in that backup."));
    }
  } else {
    versions_->set_file("", "");
    versions_title_->setText(rows.empty() ? tr("Select a file to see all its versions.")
                                          : tr("%1 items selected").arg(rows.size()));
  }
  restore_->setEnabled(!selection().empty());
  emit selectionChanged();
}

std::vector<RestoreItem> SearchPage::selection() const {
  std::vector<RestoreItem> out;
  auto vrows = versions_view_->selectionModel()->selectedRows();
  if (vrows.size() == 1 && !versions_->host().empty()) {
    int row = versions_sorted_->mapToSource(vrows[0]).row();
    if (const auto* v = versions_->version(row))
      out.push_back({versions_->host(), versions_->restore_at(row), versions_->path(), v->value("type", ""),
                     v->value("size", 0ull)});
    return out;
  }
  for (const auto& idx : results_->selectionModel()->selectedRows())
    if (const auto* h = model_->hit(idx.row()))
      out.push_back({h->value("host", ""), h->value("at", ""), cli::raw_bytes(*h, "path"),
                     h->value("type", ""), h->value("size", 0ull)});
  return out;
}

}  // namespace recall::gui
