#include "gui/main_window.h"

#include <QCloseEvent>
#include <QDir>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "gui/admin_page.h"
#include "gui/browse_page.h"
#include "gui/formatting.h"
#include "gui/progress_dialog.h"
#include "gui/restore_dialog.h"
#include "gui/search_page.h"

namespace recall::gui {

MainWindow::MainWindow(Api& api, QWidget* parent) : QMainWindow(parent), api_(api) {
  setObjectName("mainWindow");
  setWindowTitle(tr("Recall — restore your files"));
  setWindowIcon(icon("recall"));
  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);

  banner_ = new QFrame;
  banner_->setObjectName("banner");
  banner_->setFrameShape(QFrame::StyledPanel);
  banner_->setStyleSheet("#banner { background: #fdf0c7; border: 1px solid #c98b0b; border-radius: 4px; }");
  auto* bl = new QHBoxLayout(banner_);
  auto* warn = new QLabel;
  warn->setPixmap(icon("warning").pixmap(32, 32));
  banner_text_ = new QLabel;
  banner_text_->setObjectName("bannerText");
  banner_text_->setWordWrap(true);
  retry_ = new QPushButton(tr("Retry"));
  retry_->setObjectName("retry");
  bl->addWidget(warn);
  bl->addWidget(banner_text_, 1);
  bl->addWidget(retry_);
  banner_->hide();
  layout->addWidget(banner_);

  tabs_ = new QTabWidget;
  tabs_->setObjectName("tabs");
  tabs_->setDocumentMode(true);
  search_ = new SearchPage(api_);
  browse_ = new BrowsePage(api_);
  tabs_->addTab(search_, icon("search"), tr("Find files"));
  tabs_->addTab(browse_, icon("folder"), tr("Browse backups"));
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);

  who_ = new QLabel;
  statusBar()->addPermanentWidget(who_);

  connect(retry_, &QPushButton::clicked, this, &MainWindow::connect_to_daemon);
  connect(&api_, &Api::unreachable, this, &MainWindow::show_banner);
  connect(search_, &SearchPage::restoreClicked, this, [this] { open_restore(search_->selection()); });
  connect(browse_, &BrowsePage::restoreClicked, this, [this] { open_restore(browse_->selection()); });
  connect(browse_, &BrowsePage::hostChosen, this, [this](const QString& h) { last_host_ = h; });

  restore_state();
  connect_to_daemon();
}

MainWindow::~MainWindow() = default;

void MainWindow::show_banner(const QString& message) {
  connected_ = false;
  banner_text_->setText(
      tr("<b>The Recall service cannot be reached.</b> Searching and restoring need it.<br>%1<br>"
         "If this goes on, ask your administrator to start recalld.")
          .arg(message.toHtmlEscaped()));
  banner_->show();
  tabs_->setEnabled(false);
}

void MainWindow::connect_to_daemon() {
  statusBar()->showMessage(tr("Connecting to %1…").arg(QString::fromStdString(api_.socket_path())));
  api_.get("/v1/whoami", this, [this](Result<nlohmann::json> r) {
    if (!r.ok()) {
      show_banner(QString::fromStdString(r.error().message));
      return;
    }
    connected_ = true;
    banner_->hide();
    tabs_->setEnabled(true);
    statusBar()->clearMessage();
    admin_ = (*r).value("admin", false);
    who_->setText(
        admin_ ? tr("Signed in as %1 (administrator)").arg(QString::fromStdString((*r).value("user", "")))
               : tr("Signed in as %1").arg(QString::fromStdString((*r).value("user", ""))));
    if (admin_) add_admin_pages();
    load_hosts();
  });
}

void MainWindow::load_hosts() {
  api_.get("/v1/hosts", this, [this](Result<nlohmann::json> r) {
    if (!r.ok()) {
      statusBar()->showMessage(QString::fromStdString(r.error().message));
      return;
    }
    QStringList hosts;
    for (const auto& h : (*r)["hosts"]) hosts << QString::fromStdString(h.value("name", ""));
    search_->set_hosts(hosts);
    browse_->set_hosts(hosts, last_host_);
    if (hosts.isEmpty()) statusBar()->showMessage(tr("There are no backups you may see yet."));
  });
}

void MainWindow::add_admin_pages() {
  if (admin_pages_) return;
  admin_pages_ = true;
  tabs_->addTab(AdminPage::imports(api_, tabs_), icon("import"), tr("Imports"));
  tabs_->addTab(AdminPage::cartridges(api_, tabs_), icon("tape"), tr("Cartridges"));
  tabs_->addTab(AdminPage::queue(api_, tabs_), icon("queue"), tr("Tape queue"));
}

void MainWindow::open_restore(const std::vector<RestoreItem>& items) {
  if (items.empty()) return;
  if (restore_dialog_) restore_dialog_->deleteLater();
  restore_dialog_ = new RestoreDialog(api_.socket_path(), items, last_folder_, this);
  restore_dialog_->setAttribute(Qt::WA_DeleteOnClose);
  connect(restore_dialog_, &QObject::destroyed, this, [this] { restore_dialog_ = nullptr; });
  connect(restore_dialog_, &RestoreDialog::restoreRequested, this, &MainWindow::start_restore);
  restore_dialog_->open();
}

void MainWindow::start_restore(const RestoreRequest& r) {
  if (!r.to_original) last_folder_ = QString::fromStdString(r.folder);
  if (progress_) progress_->deleteLater();
  progress_ = new ProgressDialog(api_.socket_path(), r, this);
  progress_->setAttribute(Qt::WA_DeleteOnClose);
  connect(progress_, &QObject::destroyed, this, [this] { progress_ = nullptr; });
  progress_->open();
}

void MainWindow::save_state() {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  s.setValue("window/tab", tabs_->currentIndex());
  s.setValue("search/splitter", search_->splitter()->saveState());
  s.setValue("restore/folder", last_folder_);
  s.setValue("browse/host", last_host_);
}

void MainWindow::restore_state() {
  QSettings s;
  if (!restoreGeometry(s.value("window/geometry").toByteArray())) resize(1280, 800);
  restoreState(s.value("window/state").toByteArray());
  search_->splitter()->restoreState(s.value("search/splitter").toByteArray());
  last_folder_ = s.value("restore/folder", QDir::homePath()).toString();
  last_host_ = s.value("browse/host").toString();
  int tab = s.value("window/tab", 0).toInt();
  if (tab < 2) tabs_->setCurrentIndex(tab);  // admin tabs come later, if at all
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (progress_ && !progress_->finished_restore()) {
    auto answer = QMessageBox::question(this, tr("A restore is running"),
                                        tr("Stop the restore and quit? What was restored so far stays."));
    if (answer != QMessageBox::Yes) {
      e->ignore();
      return;
    }
  }
  save_state();
  e->accept();
}

}  // namespace recall::gui
