// Api over recalld's Unix socket: each call runs on a small thread pool, each pool thread with
// its own keep-alive connection (ClientTransport is one request at a time), so a slow search
// never freezes the window and a new one need not wait for it.
#pragma once

#include <QThreadPool>
#include <chrono>

#include "gui/api.h"

namespace recall::gui {

class DaemonApi : public Api {
  Q_OBJECT
 public:
  explicit DaemonApi(std::string socket, QObject* parent = nullptr);
  ~DaemonApi() override;
  void get(std::string target, QObject* receiver, Reply done) override;
  void post(std::string target, nlohmann::json body, QObject* receiver, Reply done) override;
  std::string socket_path() const override { return socket_; }

 private:
  void run(bool post, std::string target, nlohmann::json body, QObject* receiver, Reply done);

  std::string socket_;
  QThreadPool pool_;
};

}  // namespace recall::gui
