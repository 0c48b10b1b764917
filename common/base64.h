// RFC 4648 base64 (standard alphabet, with padding), via OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace recall {

// The decoded bytes, or nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace recall
