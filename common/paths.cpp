#include "common/paths.h"

namespace recall {

bool is_safe_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

Result<std::vector<std::string>> split_point_path(std::string_view path) {
  auto bad = [&](const char* why) {
    return make_error(ErrorKind::Invalid, "path '" + escape_for_display(path) + "': " + why);
  };
  if (path.empty() || path.front() != '/') return bad("must be absolute (start with /)");
  if (path.size() > 4096) return bad("longer than 4096 bytes");
  if (path.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) {
      std::string_view part = path.substr(i, j - i);
      if (part == "." || part == "..") return bad("'.' and '..' are not allowed");
      if (part.size() > 255) return bad("a name is longer than 255 bytes");
      parts.emplace_back(part);
    }
    i = j;
  }
  return parts;
}

std::string join_point_path(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

namespace {
// Length of the valid UTF-8 sequence at the start of `s` (1-4), or 0 if it is not one: overlong
// forms, surrogates and code points past U+10FFFF are not valid.
std::size_t utf8_sequence_length(std::string_view s) {
  unsigned char c = static_cast<unsigned char>(s[0]);
  std::size_t len = c < 0x80             ? 1
                    : (c & 0xE0) == 0xC0 ? 2
                    : (c & 0xF0) == 0xE0 ? 3
                    : (c & 0xF8) == 0xF0 ? 4
                                         : 0;
  if (len == 0 || len > s.size() || (len == 2 && c < 0xC2) || c > 0xF4) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[k]) & 0xC0) != 0x80) return 0;
  const unsigned char c1 = len > 1 ? static_cast<unsigned char>(s[1]) : 0;
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 >= 0x90))
    return 0;
  return len;
}

// Code points that change how the text around them is drawn, so a name holding one could pass
// for another: C1 controls (U+0080-U+009F) and the bidirectional controls (U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069).
bool is_display_control(std::string_view seq) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(seq[i]); };
  if (seq.size() == 2) return b(0) == 0xC2 && b(1) < 0xA0;
  if (seq.size() != 3 || b(0) != 0xE2) return false;
  if (b(1) == 0x80) return b(2) == 0x8E || b(2) == 0x8F || (b(2) >= 0xAA && b(2) <= 0xAE);
  return b(1) == 0x81 && b(2) >= 0xA6 && b(2) <= 0xA9;
}
}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = utf8_sequence_length(s.substr(i));
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string escape_for_display(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  static const char* hex = "0123456789abcdef";
  auto esc = [&](unsigned char c) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  };
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      esc(c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t len = utf8_sequence_length(s.substr(i)); len > 0) {
      // One valid UTF-8 sequence whole, unless it is a control: then each of its bytes.
      if (is_display_control(s.substr(i, len))) {
        for (std::size_t k = 0; k < len; ++k) esc(static_cast<unsigned char>(s[i + k]));
      } else {
        out.append(s.substr(i, len));
      }
      i += len;
    } else {
      esc(c);
      ++i;
    }
  }
  return out;
}

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace recall
