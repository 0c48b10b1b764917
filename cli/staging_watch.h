// While a read waits for tape, tells the person at the terminal what it waits for ("Waiting for
// tape R00042 - 2nd in queue, about 40 s"): a thread that asks recalld twice a second, on a
// connection of its own, and hands the words to whoever draws the progress line.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "catalogd/http/client_transport.h"

namespace recall::cli {

class StagingWatch {
 public:
  // `poll` returns the words to show ("" for nothing), `show` displays them.
  using Poll = std::function<std::string(ClientTransport&)>;
  using Show = std::function<void(const std::string&)>;
  StagingWatch(std::string socket, Poll poll, Show show);
  ~StagingWatch();  // stop()
  void stop();

 private:
  std::string socket_;
  Poll poll_;
  Show show_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace recall::cli
