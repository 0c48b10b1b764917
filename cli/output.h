// Presentation for the recall CLI: tables, sizes, modes, the progress line, and the one
// place that turns an Error into a message and an exit code.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace recall::cli {

// Exit codes (documented in docs/cli.md): 0 ok, 1 other failure, 2 invalid input,
// 3 not found, 4 permission denied, 5 offline, 6 conflict, 7 corrupt data, 130 cancelled.
int exit_code(ErrorKind kind);
// Prints "recall: MESSAGE" on stderr, always one line, and returns the exit code.
int report(const Error& e);

std::string human_size(std::uint64_t bytes);
std::string mode_string(const nlohmann::json& entry);  // "drwxr-xr-x"
// A name or path from the API, exactly as bytes (uses the *_raw form when present).
std::string raw_bytes(const nlohmann::json& j, const char* key);
// The same name or path as a person sees it in text output (escape_for_display): one line,
// unambiguous. Every name the CLI prints as text goes through here.
std::string shown(const nlohmann::json& j, const char* key);
void print_json(const nlohmann::json& j);

// A one-line progress display on stderr, redrawn at most 10 times a second, only on a TTY.
class Progress {
 public:
  Progress();
  bool enabled() const { return enabled_; }
  void update(const std::string& line, bool force = false);
  void done();

 private:
  bool enabled_;
  long long last_ms_ = 0;
  std::size_t last_len_ = 0;
};

}  // namespace recall::cli
