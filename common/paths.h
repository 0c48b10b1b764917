// Paths inside a point are absolute, '/'-separated byte strings as they were on the host.
// Names may hold any byte but '/' and NUL; they need not be UTF-8.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace recall {

// Splits "/a/b/c" into {"a","b","c"}. Refuses relative paths, "." and "..", empty
// components ("//" is folded), NUL bytes and components over 255 bytes, with a one-line
// reason naming the path.
Result<std::vector<std::string>> split_point_path(std::string_view path);
std::string join_point_path(const std::vector<std::string>& parts);
// A name is safe to create in a directory: not empty, not "." or "..", no '/' or NUL, <= 255 bytes.
bool is_safe_name(std::string_view name);
bool is_valid_utf8(std::string_view bytes);
// Shows a name or path to a person, the one way every front end shows one as text: a backslash
// as \\, control bytes, bytes that are not UTF-8 and code points that change how text is drawn
// (C1 and bidirectional controls) as \xNN for each byte. Two different names never look the
// same, and no name can break a line.
std::string escape_for_display(std::string_view bytes);
// A message made into one line for a log or a terminal: control bytes (newline, escape...) as
// \xNN, all else as it is. For text that already shows its names with escape_for_display.
std::string one_line(std::string_view text);

}  // namespace recall
