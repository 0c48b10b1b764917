#include "gui/daemon_api.h"

#include <QMetaObject>
#include <map>
#include <memory>

#include "catalogd/http/client_transport.h"

namespace recall::gui {
namespace {

// Catalog calls answer in well under a second; a minute means recalld is stuck, not busy.
constexpr std::chrono::seconds kCallTimeout{60};

ClientTransport& transport_for(const std::string& socket) {
  thread_local std::map<std::string, std::unique_ptr<ClientTransport>> by_socket;
  auto& t = by_socket[socket];
  if (!t) t = std::make_unique<ClientTransport>(socket, kCallTimeout);
  return *t;
}

}  // namespace

std::string api_encode(const std::string& value) { return ClientTransport::url_encode(value); }

std::string api_target(const std::string& path,
                       std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string t = path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    t += sep;
    t += k;
    t += '=';
    t += ClientTransport::url_encode(v);
    sep = '&';
  }
  return t;
}

DaemonApi::DaemonApi(std::string socket, QObject* parent) : Api(parent), socket_(std::move(socket)) {
  pool_.setMaxThreadCount(4);
}

DaemonApi::~DaemonApi() { pool_.waitForDone(); }

void DaemonApi::get(std::string target, QObject* receiver, Reply done) {
  run(false, std::move(target), nullptr, receiver, std::move(done));
}

void DaemonApi::post(std::string target, nlohmann::json body, QObject* receiver, Reply done) {
  run(true, std::move(target), std::move(body), receiver, std::move(done));
}

void DaemonApi::run(bool post, std::string target, nlohmann::json body, QObject* receiver, Reply done) {
  QPointer<QObject> guard(receiver);
  pool_.start(
      [this, post, target = std::move(target), body = std::move(body), guard, done = std::move(done)] {
        auto& t = transport_for(socket_);
        auto r = post ? t.post(target, body) : t.get(target);
        const bool down = !r.ok() && t.unreachable();  // no answer at all, not an error answer
        if (down) t.close();
        // Delivered through `this` (alive until the pool is done), checked on the GUI thread.
        QMetaObject::invokeMethod(
            this,
            [this, guard, done, r = std::move(r), down]() mutable {
              if (down)
                emit unreachable(QString::fromStdString(r.error().message));
              else
                emit reachable();
              if (guard) done(std::move(r));
            },
            Qt::QueuedConnection);
      });
}

}  // namespace recall::gui
