#include "common/result.h"

#include <cstring>

namespace recall {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Denied: return "permission denied";
    case ErrorKind::Offline: return "offline";
    case ErrorKind::Corrupt: return "corrupt";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Invalid: return "invalid";
    case ErrorKind::Conflict: return "conflict";
    case ErrorKind::Io: return "i/o error";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Internal: return "internal error";
  }
  return "error";
}

Error io_error(const std::string& what, int err) {
  return Error{ErrorKind::Io, what + ": " + std::strerror(err)};
}

}  // namespace recall
