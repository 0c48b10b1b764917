// Percent-encoding for request targets. Paths inside points may hold any byte (see common/paths.h),
// so they travel in query parameters encoded byte by byte and decode back to the same bytes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace recall {

// Encodes every byte outside the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~) as %XX (upper-case hex),
// including '/', '%', '&', '=', '+', space, NUL and non-UTF-8 bytes.
std::string url_encode(std::string_view bytes);

// Decodes %XX escapes; with plus_is_space, '+' becomes ' ' (form encoding, used in queries).
// Returns nullopt for a '%' not followed by two hex digits.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space);

// Splits a request target "/path?k=v&k2=v2" into the decoded path (written to path_out) and the
// decoded query parameters. A parameter without '=' has an empty value; when a key repeats, the
// last value wins. Malformed escapes are kept literally rather than rejected, because this is
// also used for logging and 404s; routes validate the decoded values themselves. A fragment
// ("#...") is dropped. Note that "%2F" in the path decodes to '/', so values that may hold '/'
// belong in the query.
std::map<std::string, std::string> parse_query(std::string_view target, std::string& path_out);

}  // namespace recall
