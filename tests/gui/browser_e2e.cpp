// Drives the real recall-browser window against a real recalld, as the user it runs as (see
// tests/e2e/test_browser.py, which prepares the catalog and runs this under xvfb-run). One
// scenario per RECALL_E2E_ROLE: "user" finds, restores and handles a conflict; "admin" sees the
// admin pages; "unreachable" sees the banner. Writes a screenshot of each main state.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QScreen>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTest>
#include <QTreeView>
#include <QTreeWidget>

#include "gui/browse_page.h"
#include "gui/daemon_api.h"
#include "gui/main_window.h"
#include "gui/progress_dialog.h"
#include "gui/restore_dialog.h"
#include "gui/search_page.h"

using namespace recall::gui;

namespace {
QString env(const char* name) { return qEnvironmentVariable(name); }

QByteArray sha256_of(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
}
}  // namespace

class BrowserE2E : public QObject {
  Q_OBJECT

  std::unique_ptr<DaemonApi> api_;
  std::unique_ptr<MainWindow> win_;
  int shot_ = 0;

  // The whole screen (so dialogs over the window are in it), named by state.
  void screenshot(const QString& name, int settle_ms = 400) {
    QTest::qWait(settle_ms);  // let the window paint
    QDir().mkpath(env("RECALL_E2E_SHOTS"));
    auto pix = QGuiApplication::primaryScreen()->grabWindow(0);
    QString path =
        QString("%1/%2-%3.png").arg(env("RECALL_E2E_SHOTS")).arg(++shot_, 2, 10, QChar('0')).arg(name);
    QVERIFY2(pix.save(path), qPrintable("cannot write " + path));
  }

  void start_window(const QString& socket) {
    api_ = std::make_unique<DaemonApi>(socket.toStdString());
    win_ = std::make_unique<MainWindow>(*api_);
    win_->resize(1280, 780);
    win_->move(0, 0);
    win_->show();
    QVERIFY(QTest::qWaitForWindowExposed(win_.get()));
  }

  template <typename T>
  T* find(const char* name) {
    for (auto* w : QApplication::topLevelWidgets())
      if (auto* c = w->findChild<T*>(name)) return c;
    return nullptr;
  }

  // Finds the search hit of `path`; -1 when absent.
  int hit_row(const std::string& path) {
    auto& m = win_->search_page()->model();
    for (int r = 0; r < m.rowCount(); ++r)
      if (m.hit(r)->value("path", "") == path) return r;
    return -1;
  }

  void restore_with(const QString& folder, bool expect_conflict, const char* shot_dialog) {
    auto* button = win_->findChild<QPushButton*>("restoreButton");
    QVERIFY(button && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(win_->restore_dialog() && win_->restore_dialog()->isVisible(), 10000);
    auto* dialog = win_->restore_dialog();
    auto* folder_edit = dialog->findChild<QLineEdit*>("folder");
    folder_edit->selectAll();
    QTest::keyClicks(folder_edit, folder);
    QVERIFY(dialog->findChild<QRadioButton*>("toFolder")->isChecked());
    QTRY_VERIFY_WITH_TIMEOUT(dialog->preview_ready(), 30000);
    auto* cost = dialog->findChild<QLabel*>("costHint");
    QVERIFY2(cost->text().startsWith("1 file, "), qPrintable(cost->text()));
    if (!expect_conflict && !env("RECALL_E2E_EXPECT_TAPES").isEmpty())  // later, it is in the staging cache
      QVERIFY2(cost->text().contains(env("RECALL_E2E_EXPECT_TAPES")), qPrintable(cost->text()));
    auto* preview = dialog->findChild<QTreeWidget*>("preview");
    QCOMPARE(preview->topLevelItemCount(), 1);
    const QString action = preview->topLevelItem(0)->text(0);
    QVERIFY2(expect_conflict ? action.contains("asked") : action.contains("restored"), qPrintable(action));
    screenshot(shot_dialog);
    QTest::mouseClick(dialog->findChild<QPushButton*>("startRestore"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(win_->progress_dialog() && win_->progress_dialog()->isVisible(), 10000);
  }

 private slots:
  void initTestCase() {
    QVERIFY2(!env("RECALL_E2E_ROLE").isEmpty(),
             "set RECALL_E2E_ROLE (run through tests/e2e/test_browser.py)");
    QApplication::setOrganizationName("Recall");
    QApplication::setApplicationName("recall-browser");
  }

  void scenario() {
    const QString role = env("RECALL_E2E_ROLE");
    if (role == "unreachable") return unreachable();
    start_window(env("RECALL_SOCKET"));
    if (QTest::currentTestFailed()) return;
    QTRY_VERIFY_WITH_TIMEOUT(win_->connected(), 15000);
    if (role == "admin") return admin();
    QCOMPARE(win_->tabs()->count(), 2);  // no admin pages for a user
    user_finds_and_restores();
  }

 private:
  void user_finds_and_restores();
  void admin();
  void unreachable();

 private slots:
  void cleanupTestCase() {
    win_.reset();
    api_.reset();
  }
};

void BrowserE2E::user_finds_and_restores() {
  auto* page = win_->search_page();
  QAbstractItemModelTester tester(&page->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  screenshot("start");
  QTest::keyClicks(page->field(), "budget");
  QTRY_VERIFY_WITH_TIMEOUT(page->model().rowCount() > 0 && !page->model().loading(), 15000);
  const std::string file = env("RECALL_E2E_FILE").toStdString();
  QVERIFY2(hit_row(file) >= 0, "the user's own file is found");
  // What the user could not read on the host is never offered.
  QCOMPARE(hit_row(env("RECALL_E2E_HIDDEN").toStdString()), -1);
  screenshot("search-results");

  // The file's versions: pick the one backed up on Tuesday, before it got corrupted.
  auto* results = win_->findChild<QTableView*>("results");
  results->setFocus();
  results->selectRow(hit_row(file));
  auto& versions = page->versions();
  QTRY_COMPARE_WITH_TIMEOUT(versions.rowCount(), 3, 15000);
  auto* vview = win_->findChild<QTableView*>("versions");
  int tuesday = -1;
  for (int r = 0; r < vview->model()->rowCount(); ++r) {
    auto src = static_cast<QSortFilterProxyModel*>(vview->model())->mapToSource(vview->model()->index(r, 0));
    if (versions.version(src.row())->value("first_seen", "") == env("RECALL_E2E_TUESDAY").toStdString())
      tuesday = r;
  }
  QVERIFY2(tuesday >= 0, "Tuesday's version is listed");
  vview->selectRow(tuesday);
  auto items = page->selection();
  QCOMPARE(items.size(), std::size_t{1});
  QCOMPARE(QString::fromStdString(items[0].at), env("RECALL_E2E_TUESDAY_LAST"));
  screenshot("versions");

  const QString out = env("RECALL_E2E_OUT");
  const QString target = out + "/" + QString::fromStdString(file.substr(file.rfind('/') + 1));
  restore_with(out, false, "restore-dialog");
  if (QTest::currentTestFailed()) return;
  auto* progress = win_->progress_dialog();
  // While it stages from tape the dialog says so in words.
  QTRY_VERIFY_WITH_TIMEOUT(
      progress->finished_restore() || !progress->findChild<QLabel*>("stagingWords")->text().isEmpty(), 60000);
  if (!progress->finished_restore()) screenshot("progress-waiting-for-tape", 60);
  QTRY_VERIFY_WITH_TIMEOUT(progress->finished_restore(), 120000);
  QVERIFY2(progress->succeeded(), qPrintable(progress->findChild<QLabel*>("result")->text()));
  screenshot("restored");
  QCOMPARE(sha256_of(target), env("RECALL_E2E_TUESDAY_SHA").toLatin1());
  QTest::mouseClick(progress->findChild<QPushButton*>("closeProgress"), Qt::LeftButton);

  // Again into the same folder: the file is there, and the user chooses to keep both.
  restore_with(out, true, "restore-dialog-conflict");
  if (QTest::currentTestFailed()) return;
  progress = win_->progress_dialog();
  QTRY_VERIFY_WITH_TIMEOUT(progress->conflict_box() != nullptr && progress->conflict_box()->isVisible(),
                           60000);
  screenshot("conflict");
  QTest::mouseClick(progress->conflict_box()->findChild<QPushButton*>("keepBoth"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(progress->finished_restore(), 120000);
  QVERIFY2(progress->succeeded(), qPrintable(progress->findChild<QLabel*>("result")->text()));
  QCOMPARE(sha256_of(target), env("RECALL_E2E_TUESDAY_SHA").toLatin1());
  QCOMPARE(sha256_of(target + ".recall-1"), env("RECALL_E2E_TUESDAY_SHA").toLatin1());
  QTest::mouseClick(progress->findChild<QPushButton*>("closeProgress"), Qt::LeftButton);

  // Browse: the host's points on the timeline, the oldest one's tree.
  win_->tabs()->setCurrentIndex(1);
  auto* browse = win_->browse_page();
  QTRY_COMPARE_WITH_TIMEOUT(browse->timeline()->maximum(), 2, 15000);
  browse->timeline()->setValue(0);
  auto& tree = browse->model();
  QAbstractItemModelTester tree_tester(&tree, QAbstractItemModelTester::FailureReportingMode::QtTest);
  QTRY_VERIFY_WITH_TIMEOUT(tree.rowCount() > 0, 15000);
  auto* view = win_->findChild<QTreeView*>("pointTree");
  // Open the folders down to the file, as a person would.
  QModelIndex at;
  for (const auto& part : QString::fromStdString(file).split('/', Qt::SkipEmptyParts)) {
    QModelIndex found;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          for (int r = 0; r < tree.rowCount(at); ++r)
            if (tree.index(r, 0, at).data().toString() == part)
              return (found = tree.index(r, 0, at)).isValid();
          return false;
        }(),
        15000);
    view->expand(found);
    at = found;
  }
  view->setCurrentIndex(at);
  view->selectionModel()->select(at, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  QCOMPARE(browse->selection().size(), std::size_t{1});
  screenshot("browse");
  win_->close();  // saves its state
}

void BrowserE2E::admin() {
  QCOMPARE(win_->tabs()->count(), 5);
  win_->tabs()->setCurrentIndex(3);  // cartridges
  auto* page = win_->tabs()->widget(3);
  QCOMPARE(page->objectName(), QString("adminCartridges"));
  auto* table = page->findChild<QTableView*>();
  QTRY_VERIFY_WITH_TIMEOUT(table->model()->rowCount() > 0, 15000);
  screenshot("admin-cartridges");
  win_->tabs()->setCurrentIndex(2);
  QTRY_VERIFY_WITH_TIMEOUT(win_->tabs()->widget(2)->findChild<QTableView*>()->model()->rowCount() >= 3,
                           15000);
  screenshot("admin-imports");
}

void BrowserE2E::unreachable() {
  start_window("/nonexistent/recalld.sock");
  auto* banner = win_->findChild<QWidget*>("banner");
  QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 15000);
  QVERIFY(win_->findChild<QLabel*>("bannerText")->text().contains("/nonexistent/recalld.sock"));
  QVERIFY(!win_->tabs()->isEnabled());
  screenshot("daemon-unreachable");
  QTest::mouseClick(win_->findChild<QPushButton*>("retry"), Qt::LeftButton);
  QTest::qWait(500);
  QVERIFY(banner->isVisible());
}

QTEST_MAIN(BrowserE2E)
#include "browser_e2e.moc"
