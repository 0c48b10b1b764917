#include "catalogd/http/http_errors.h"

#include <array>
#include <string>

namespace recall {
namespace {

constexpr std::array kAllKinds = {
    ErrorKind::NotFound, ErrorKind::Denied,   ErrorKind::Offline, ErrorKind::Corrupt,   ErrorKind::Timeout,
    ErrorKind::Invalid,  ErrorKind::Conflict, ErrorKind::Io,      ErrorKind::Cancelled, ErrorKind::Internal,
};

// Keeps a quoted foreign body short enough for a one-line message.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound:
      return 404;
    case ErrorKind::Denied:
      return 403;
    case ErrorKind::Offline:
      return 503;
    case ErrorKind::Corrupt:
      return 500;
    case ErrorKind::Timeout:
      return 504;
    case ErrorKind::Invalid:
      return 400;
    case ErrorKind::Conflict:
      return 409;
    case ErrorKind::Io:
      return 500;
    case ErrorKind::Cancelled:
      return 410;
    case ErrorKind::Internal:
      return 500;
  }
  return 500;
}

const char* error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound:
      return "not_found";
    case ErrorKind::Denied:
      return "denied";
    case ErrorKind::Offline:
      return "offline";
    case ErrorKind::Corrupt:
      return "corrupt";
    case ErrorKind::Timeout:
      return "timeout";
    case ErrorKind::Invalid:
      return "invalid";
    case ErrorKind::Conflict:
      return "conflict";
    case ErrorKind::Io:
      return "io";
    case ErrorKind::Cancelled:
      return "cancelled";
    case ErrorKind::Internal:
      return "internal";
  }
  return "internal";
}

std::optional<ErrorKind> error_kind_from_code(std::string_view code) {
  for (ErrorKind kind : kAllKinds) {
    if (code == error_code(kind)) return kind;
  }
  return std::nullopt;
}

ErrorKind error_kind_from_status(int status) {
  switch (status) {
    case 400:
    case 405:
    case 411:
    case 413:
    case 414:
    case 415:
    case 422:
    case 431:
      return ErrorKind::Invalid;
    case 401:
    case 403:
      return ErrorKind::Denied;
    case 404:
      return ErrorKind::NotFound;
    case 408:
    case 504:
      return ErrorKind::Timeout;
    case 409:
    case 412:
      return ErrorKind::Conflict;
    case 410:
      return ErrorKind::Cancelled;
    case 503:
      return ErrorKind::Offline;
    default:
      break;
  }
  return status >= 400 && status < 500 ? ErrorKind::Invalid : ErrorKind::Internal;
}

nlohmann::json error_body(const Error& error) {
  return {{"error",
           {{"code", error_code(error.kind)}, {"kind", to_string(error.kind)}, {"message", error.message}}}};
}

std::optional<Error> error_from_body(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) return std::nullopt;
  const nlohmann::json& e = doc["error"];
  std::optional<ErrorKind> kind;
  if (e.contains("code") && e["code"].is_string()) kind = error_kind_from_code(e["code"].get<std::string>());
  if (!kind && e.contains("kind") && e["kind"].is_string()) {
    // Bodies that carry only the human name (older servers, hand-written tests).
    std::string name = e["kind"].get<std::string>();
    for (ErrorKind k : kAllKinds) {
      if (name == to_string(k)) kind = k;
    }
  }
  if (!kind) return std::nullopt;
  std::string message;
  if (e.contains("message") && e["message"].is_string()) message = e["message"].get<std::string>();
  return Error{*kind, std::move(message)};
}

Error error_from_response(int status, std::string_view body) {
  // allow_exceptions=false: a foreign body (HTML from a proxy, plain text) is not an error here.
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (auto e = error_from_body(doc)) {
    if (e->message.empty()) e->message = "recalld answered HTTP " + std::to_string(status);
    return *e;
  }
  std::string message = "recalld answered HTTP " + std::to_string(status);
  if (!body.empty()) message += ": " + excerpt(body);
  return Error{error_kind_from_status(status), std::move(message)};
}

}  // namespace recall
