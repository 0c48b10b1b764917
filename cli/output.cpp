#include "cli/output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "catalogd/http/url.h"
#include "common/paths.h"

namespace recall::cli {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Invalid:
      return 2;
    case ErrorKind::NotFound:
      return 3;
    case ErrorKind::Denied:
      return 4;
    case ErrorKind::Offline:
      return 5;
    case ErrorKind::Conflict:
      return 6;
    case ErrorKind::Corrupt:
      return 7;
    case ErrorKind::Cancelled:
      return 130;
    default:
      return 1;
  }
}

int report(const Error& e) {
  std::fprintf(stderr, "recall: %s\n", one_line(e.message).c_str());
  return exit_code(e.kind);
}

std::string human_size(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string mode_string(const nlohmann::json& e) {
  std::string t = e.value("type", "file");
  char c = t == "dir"        ? 'd'
           : t == "symlink"  ? 'l'
           : t == "chardev"  ? 'c'
           : t == "blockdev" ? 'b'
           : t == "fifo"     ? 'p'
           : t == "socket"   ? 's'
                             : '-';
  if (!e.contains("mode")) return std::string(1, c) + "?????????";
  unsigned m = e["mode"].get<unsigned>();
  std::string s(1, c);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (m & (0400u >> i)) ? rwx[i] : '-';
  if (m & S_ISUID) s[3] = (m & 0100) ? 's' : 'S';
  if (m & S_ISGID) s[6] = (m & 010) ? 's' : 'S';
  if (m & S_ISVTX) s[9] = (m & 01) ? 't' : 'T';
  if (e.contains("acl")) s += '+';
  return s;
}

std::string raw_bytes(const nlohmann::json& j, const char* key) {
  std::string rk = std::string(key) + "_raw";
  if (j.contains(rk)) {
    auto d = url_decode(j[rk].get<std::string>(), false);
    if (d) return *d;
  }
  return j.value(key, "");
}

std::string shown(const nlohmann::json& j, const char* key) { return escape_for_display(raw_bytes(j, key)); }

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

Progress::Progress() : enabled_(isatty(STDERR_FILENO) && !std::getenv("CI")) {}

void Progress::update(const std::string& line, bool force) {
  if (!enabled_) return;
  long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
  if (!force && now - last_ms_ < 100) return;
  last_ms_ = now;
  std::string out = "\r" + line;
  if (line.size() < last_len_) out += std::string(last_len_ - line.size(), ' ');
  last_len_ = line.size();
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
}

void Progress::done() {
  if (enabled_ && last_len_) std::fputs("\n", stderr);
  last_len_ = 0;
}

}  // namespace recall::cli
