#include "gui/admin_page.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "gui/formatting.h"

namespace recall::gui {
namespace {
using Col = JsonTableModel::Column;
auto str(const char* key) {
  return [key](const nlohmann::json& j) -> QString {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    return QString::fromStdString(it->is_string() ? it->get<std::string>() : it->dump());
  };
}
auto bytes(const char* key) {
  return [key](const nlohmann::json& j) { return human_size(j.value(key, 0ull)); };
}
auto when(const char* key) {
  return [key](const nlohmann::json& j) { return display_time(j.value(key, "")); };
}
}  // namespace

AdminPage::AdminPage(Api& api, std::string route, std::function<nlohmann::json(const nlohmann::json&)> rows,
                     std::function<QString(const nlohmann::json&)> summary,
                     std::vector<JsonTableModel::Column> columns, QWidget* parent)
    : QWidget(parent),
      api_(api),
      route_(std::move(route)),
      rows_(std::move(rows)),
      summary_(std::move(summary)) {
  model_ = new JsonTableModel(std::move(columns), this);
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  summary_label_ = new QLabel;
  summary_label_->setWordWrap(true);
  top->addWidget(summary_label_, 1);
  auto* refresh_button = new QPushButton(tr("Refresh"));
  top->addWidget(refresh_button);
  layout->addLayout(top);
  table_ = new QTableView;
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  table_->setShowGrid(false);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  layout->addWidget(table_, 1);
  timer_ = new QTimer(this);
  timer_->setInterval(5000);
  connect(timer_, &QTimer::timeout, this, &AdminPage::refresh);
  connect(refresh_button, &QPushButton::clicked, this, &AdminPage::refresh);
}

void AdminPage::refresh() {
  api_.get(route_, this, [this](Result<nlohmann::json> r) {
    if (!r.ok()) {
      summary_label_->setText(QString::fromStdString(r.error().message));
      return;
    }
    model_->set_rows(rows_(*r));
    summary_label_->setText(summary_(*r));
    table_->resizeColumnsToContents();
  });
}

void AdminPage::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  refresh();
  timer_->start();
}

void AdminPage::hideEvent(QHideEvent* e) {
  timer_->stop();
  QWidget::hideEvent(e);
}

AdminPage* AdminPage::imports(Api& api, QWidget* parent) {
  auto* p = new AdminPage(
      api, "/v1/status",
      [](const nlohmann::json& s) { return s.value("recent_sets", nlohmann::json::array()); },
      [](const nlohmann::json& s) {
        const auto& c = s.value("catalog", nlohmann::json::object());
        return AdminPage::tr("%1 computers, %2 backups, %3 stored. Running imports: %4.")
            .arg(c.value("hosts", 0))
            .arg(c.value("points", 0))
            .arg(human_size(c.value("stored_bytes", 0ull)))
            .arg(s.value("jobs", nlohmann::json::array()).size());
      },
      {Col{tr("Computer"), str("host"), nullptr}, Col{tr("Backup of"), when("point"), nullptr},
       Col{tr("Importer"), str("importer"), [](const auto&) { return QString("import"); }},
       Col{tr("Kind"), str("kind"), nullptr}, Col{tr("Status"), str("status"), nullptr},
       Col{tr("Started"), when("started"), nullptr}, Col{tr("Source"), str("source"), nullptr}},
      parent);
  p->setObjectName("adminImports");
  return p;
}

AdminPage* AdminPage::cartridges(Api& api, QWidget* parent) {
  auto* p = new AdminPage(
      api, "/v1/volumes",
      [](const nlohmann::json& v) { return v.value("cartridges", nlohmann::json::array()); },
      [](const nlohmann::json& v) {
        const auto& lib = v.value("library", nlohmann::json());
        if (!lib.is_object()) return AdminPage::tr("No tape library is configured.");
        return AdminPage::tr("%1 drives, %2 slots (%3 free). Operator requests: %4.")
            .arg(lib.value("drives", 0))
            .arg(lib.value("slots", 0))
            .arg(lib.value("free_slots", 0))
            .arg(v.value("operator_requests", nlohmann::json::array()).size());
      },
      {Col{tr("Cartridge"), str("volser"),
           [](const nlohmann::json& c) {
             return QString(c.value("place", "") == "off-site" ? "offsite" : "tape");
           }},
       Col{tr("Where"), str("where"), nullptr}, Col{tr("State"), str("state"), nullptr},
       Col{tr("Copy pool"), str("pool"), nullptr}, Col{tr("Used"), bytes("bytes_used"), nullptr},
       Col{tr("Capacity"), bytes("capacity_bytes"), nullptr}, Col{tr("Mounts"), str("mounts"), nullptr},
       Col{tr("Read errors"), str("read_errors"), nullptr}, Col{tr("Note"), str("note"), nullptr}},
      parent);
  p->setObjectName("adminCartridges");
  return p;
}

AdminPage* AdminPage::queue(Api& api, QWidget* parent) {
  auto* p = new AdminPage(
      api, "/v1/queue", [](const nlohmann::json& q) { return q.value("requests", nlohmann::json::array()); },
      [](const nlohmann::json& q) {
        return AdminPage::tr("%1 requests waiting or being read from tape.")
            .arg(q.value("requests", nlohmann::json::array()).size());
      },
      {Col{tr("User"), str("user"), nullptr}, Col{tr("What"), str("what"), nullptr},
       Col{tr("Status"), str("words"), [](const auto&) { return QString("tape"); }},
       Col{tr("Priority"), str("priority"), nullptr}, Col{tr("Cartridge"), str("cartridge"), nullptr},
       Col{tr("Size"), bytes("bytes"), nullptr}, Col{tr("Done"), bytes("bytes_done"), nullptr}},
      parent);
  p->setObjectName("adminQueue");
  return p;
}

}  // namespace recall::gui
