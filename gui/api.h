// The browser's way to recalld: asynchronous JSON calls whose answers arrive on the GUI thread.
// Models depend on the Api interface only, so tests feed them canned answers (tests/gui).
#pragma once

#include <QObject>
#include <QPointer>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace recall::gui {

class Api : public QObject {
  Q_OBJECT
 public:
  using Reply = std::function<void(Result<nlohmann::json>)>;
  using QObject::QObject;

  // `done` runs on the GUI thread, and only while `receiver` still exists: a model that was
  // reset or destroyed never sees an answer meant for its former self.
  virtual void get(std::string target, QObject* receiver, Reply done) = 0;
  virtual void post(std::string target, nlohmann::json body, QObject* receiver, Reply done) = 0;
  virtual std::string socket_path() const = 0;

 signals:
  // Every failure to reach recalld at all (not an error answer), so the window can say so once.
  void unreachable(const QString& message);
  void reachable();
};

std::string api_encode(const std::string& value);  // percent-encoded for a query
// "/v1/ls?host=a&path=%2Fx": every value percent-encoded.
std::string api_target(const std::string& path,
                       std::initializer_list<std::pair<const char*, std::string>> params);

}  // namespace recall::gui
