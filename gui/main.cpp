// recall-browser: find and restore your files from Recall's backups (see docs/recall-browser.md).
#include <QApplication>
#include <QCommandLineParser>

#include "catalogd/http/client_transport.h"
#include "gui/daemon_api.h"
#include "gui/formatting.h"
#include "gui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("recall-browser");
  QApplication::setOrganizationName("Recall");
  QApplication::setApplicationDisplayName(QApplication::translate("main", "Recall"));
  QApplication::setDesktopFileName("recall-browser");
  QApplication::setWindowIcon(recall::gui::icon("recall"));

  QCommandLineParser cli;
  cli.setApplicationDescription(
      QApplication::translate("main", "Find files in Recall's backups and restore them."));
  cli.addHelpOption();
  QCommandLineOption socket("socket",
                            QApplication::translate("main",
                                                    "recalld's socket (default: $RECALL_SOCKET, "
                                                    "else /var/lib/recall/recalld.sock)."),
                            "PATH");
  cli.addOption(socket);
  cli.process(app);

  recall::gui::DaemonApi api(cli.isSet(socket) ? cli.value(socket).toStdString()
                                               : recall::default_socket_path());
  recall::gui::MainWindow window(api);
  window.show();
  return app.exec();
}
