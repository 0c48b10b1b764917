// The browser's window: who you are, the "Find files" and "Browse backups" pages, the admin
// pages for admins, a banner with Retry when recalld cannot be reached, and the restore flow
// (RestoreDialog, then ProgressDialog). Remembers its size, layout and last choices.
#pragma once

#include <QMainWindow>
#include <memory>

#include "gui/api.h"
#include "gui/restore_task.h"

class QLabel;
class QPushButton;
class QTabWidget;
class QFrame;

namespace recall::gui {

class SearchPage;
class BrowsePage;
class ProgressDialog;
class RestoreDialog;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(Api& api, QWidget* parent = nullptr);
  ~MainWindow() override;

  SearchPage* search_page() const { return search_; }
  BrowsePage* browse_page() const { return browse_; }
  QTabWidget* tabs() const { return tabs_; }
  bool connected() const { return connected_; }
  bool is_admin() const { return admin_; }
  RestoreDialog* restore_dialog() const { return restore_dialog_; }
  ProgressDialog* progress_dialog() const { return progress_; }
  void connect_to_daemon();  // whoami, then hosts; the banner shows what went wrong

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void open_restore(const std::vector<RestoreItem>& items);
  void start_restore(const RestoreRequest& r);
  void show_banner(const QString& message);
  void add_admin_pages();
  void load_hosts();
  void save_state();
  void restore_state();

  Api& api_;
  QTabWidget* tabs_;
  SearchPage* search_;
  BrowsePage* browse_;
  QFrame* banner_;
  QLabel* banner_text_;
  QPushButton* retry_;
  QLabel* who_;
  RestoreDialog* restore_dialog_ = nullptr;
  ProgressDialog* progress_ = nullptr;
  bool connected_ = false, admin_ = false, admin_pages_ = false;
  QString last_folder_, last_host_;
};

}  // namespace recall::gui
