// The one place that translates recall::ErrorKind to HTTP and back (style.md item 3).
//
// Status choices, and why:
//   NotFound  404   Denied   403   Invalid  400   Conflict 409   Timeout 504
//   Offline   503   the bytes are on a volume that is not mounted; like 503 it means "not now,
//                   retry later" (a Retry-After header may say when), and nothing is wrong with
//                   the request or the daemon.
//   Cancelled 410   the job the request refers to was cancelled by its owner and is gone for good;
//                   nginx's 499 is not a real status and would confuse generic clients.
//   Corrupt   500   }
//   Io        500   } server-side failures; the body's "code" tells them apart, the status only
//   Internal  500   } tells a generic client that retrying the same request will not help.
//
// Error body: {"error":{"code":"not_found","kind":"not found","message":"..."}}. "code" is the stable
// machine-readable name (never changes); "kind" is to_string(kind) for people; "message" is the
// one-line explanation from the library that failed.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace recall {

int http_status(ErrorKind kind);

// Stable wire name of a kind: "not_found", "denied", "offline", "corrupt", "timeout", "invalid",
// "conflict", "io", "cancelled", "internal".
const char* error_code(ErrorKind kind);
std::optional<ErrorKind> error_kind_from_code(std::string_view code);

// The kind a bare status implies, for responses without our error body (a proxy, a crash page).
ErrorKind error_kind_from_status(int status);

nlohmann::json error_body(const Error& error);

// The trailer that ends a chunked stream which failed after its first byte (Responder::
// fail_stream): its value is error_body() as one line of ASCII JSON. A client that finds it after
// a 2xx body reports that Error, the same one a failure before the first byte would have sent.
inline constexpr const char* kStreamErrorTrailer = "X-Recall-Error";

// The Error an error body describes; nullopt when `doc` is not one (no "error" object, or neither
// a known "code" nor "kind"). A body without a message yields an empty message.
std::optional<Error> error_from_body(const nlohmann::json& doc);

// Turns a non-2xx response back into the Error the server sent. The body's "code" wins over the
// status; a body that is not ours yields a kind from the status and a message quoting the body.
Error error_from_response(int status, std::string_view body);

}  // namespace recall
