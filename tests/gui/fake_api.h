// An Api for model tests: records every call and answers when the test says so, in any order,
// as recalld's thread pool may.
#pragma once

#include <QPointer>
#include <deque>

#include "gui/api.h"

namespace recall::gui::testing {

class FakeApi : public Api {
 public:
  struct Call {
    std::string target;
    nlohmann::json body;
    QPointer<QObject> receiver;
    Reply done;
  };
  void get(std::string target, QObject* receiver, Reply done) override {
    calls.push_back({std::move(target), nullptr, receiver, std::move(done)});
  }
  void post(std::string target, nlohmann::json body, QObject* receiver, Reply done) override {
    calls.push_back({std::move(target), std::move(body), receiver, std::move(done)});
  }
  std::string socket_path() const override { return "/fake.sock"; }

  // Answers call `i` (and forgets it).
  void answer(std::size_t i, Result<nlohmann::json> r) {
    Call c = std::move(calls.at(i));
    calls.erase(calls.begin() + static_cast<long>(i));
    if (c.receiver) c.done(std::move(r));
  }
  std::deque<Call> calls;
};

}  // namespace recall::gui::testing
