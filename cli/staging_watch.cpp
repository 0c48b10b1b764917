#include "cli/staging_watch.h"

#include <chrono>

namespace recall::cli {

StagingWatch::StagingWatch(std::string socket, Poll poll, Show show)
    : socket_(std::move(socket)), poll_(std::move(poll)), show_(std::move(show)) {
  thread_ = std::thread([this] {
    ClientTransport api(socket_, std::chrono::seconds(5));
    std::unique_lock lk(mu_);
    // The first look after a short while: most reads never wait for a tape at all.
    while (!cv_.wait_for(lk, std::chrono::milliseconds(300), [this] { return stopping_; })) {
      lk.unlock();
      const std::string words = poll_(api);
      lk.lock();
      if (stopping_) break;
      if (!words.empty()) show_(words);
      cv_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stopping_; });
    }
  });
}

StagingWatch::~StagingWatch() { stop(); }

void StagingWatch::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace recall::cli
