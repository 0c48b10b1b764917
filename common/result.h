// One error vocabulary for every library in Recall (docs/ARCHITECTURE.md, "Errors").
// Library code returns Result<T>; each edge translates an ErrorKind exactly once:
// to an HTTP status in catalogd/http/http_errors.cpp, to an exit code in cli/, to an errno in fusefs/.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace recall {

enum class ErrorKind {
  NotFound,  // no such host, point, path, job
  Denied,    // the caller may not see or do this
  Offline,   // data is on a volume that is not online (tape, off-site)
  Corrupt,   // checksum mismatch, malformed volume block, bad archive
  Timeout,
  Invalid,    // bad input from the caller: arguments, paths, times
  Conflict,   // state forbids it: older point, daemon already running, target exists
  Io,         // the operating system said no (errno text in the message)
  Cancelled,  // a job was cancelled by its owner
  Internal,   // a bug or an unexpected library failure
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }
// An Io error whose message ends with strerror(err).
Error io_error(const std::string& what, int err);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // By value: `for (auto& x : *f())` then keeps the moved-out value alive for the loop.
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace recall

// Propagates an error from an expression returning Result<...> or Status.
#define RECALL_TRY(expr)                                             \
  do {                                                               \
    auto recall_try_result_ = (expr);                                \
    if (!recall_try_result_.ok()) return recall_try_result_.error(); \
  } while (0)
