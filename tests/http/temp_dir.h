// A fresh directory under /tmp per test, removed afterwards. /tmp keeps socket paths well under
// the 107-byte sun_path limit.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace recall::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ = "/tmp/recall-http-XXXXXX";
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace recall::testing
