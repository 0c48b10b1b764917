#include "catalogd/http/data_client.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "catalogd/http/http_errors.h"
#include "catalogd/http/unix_socket.h"

namespace recall {
namespace {

// Replies are small objects; anything this large is a broken server.
constexpr std::size_t kMaxReply = 1 << 20;
// Room for more descriptors than the protocol sends, so extra ones are received and closed
// instead of being cut off (MSG_CTRUNC).
constexpr std::size_t kMaxFds = 8;

}  // namespace

DataClient::DataClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

void DataClient::abort() {
  std::lock_guard lk(mu_);
  aborted_ = true;
  for (int fd : live_) ::shutdown(fd, SHUT_RDWR);  // wakes a blocked send or recv at once
}

bool DataClient::aborted() const {
  std::lock_guard lk(mu_);
  return aborted_;
}

Error DataClient::cancelled() const {
  return Error{ErrorKind::Cancelled, "the request to recalld at " + socket_path_ + " was cancelled"};
}

Result<DataReply> DataClient::call(const nlohmann::json& request) {
  if (!request.is_object())
    return Error{ErrorKind::Invalid, "a request to recalld's data socket must be a JSON object"};
  std::string line;
  try {
    line = request.dump() + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Error{ErrorKind::Invalid, std::string("the request cannot be encoded as JSON: ") + e.what()};
  }
  if (aborted()) return cancelled();
  auto sock = connect_to_recalld(socket_path_);
  if (!sock.ok()) return sock.error();
  const int fd = sock->get();
  {
    std::lock_guard lk(mu_);
    if (aborted_) return cancelled();
    live_.insert(fd);
  }
  // Unregisters before `sock` closes, so abort() never shuts down a number reused elsewhere.
  struct Unregister {
    DataClient* self;
    int fd;
    ~Unregister() {
      std::lock_guard lk(self->mu_);
      self->live_.erase(fd);
    }
  } unregister{this, fd};
  auto lost = [&](const std::string& during, int err) -> Error {
    if (aborted()) return cancelled();
    std::string why = err ? std::strerror(err) : "it closed the connection";
    return Error{ErrorKind::Io,
                 "lost the connection to recalld at " + socket_path_ + " " + during + ": " + why};
  };

  int send_error = 0;
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // Not yet an error: a busy server answers and closes before it reads the request.
      send_error = errno;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }

  // recvmsg for every piece: the descriptor rides on the reply's first byte, and a plain read
  // would drop it.
  std::string reply;
  UniqueFd passed;
  for (;;) {
    char piece[16 << 10];
    iovec iov{piece, sizeof(piece)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && send_error) return lost("while sending the request", send_error);
    if (n < 0) return lost("while waiting for the reply", errno);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (!passed) {
          passed.reset(received);
        } else {
          ::close(received);  // the protocol passes one; never leak others
        }
      }
    }
    if (n == 0 && send_error) return lost("while sending the request", send_error);
    if (n == 0) return lost("before it answered", 0);
    reply.append(piece, static_cast<std::size_t>(n));
    if (auto nl = reply.find('\n'); nl != std::string::npos) {
      reply.resize(nl);
      break;
    }
    if (reply.size() > kMaxReply)
      return Error{ErrorKind::Internal, "recalld at " + socket_path_ + " sent a reply longer than " +
                                            std::to_string(kMaxReply) + " bytes"};
  }
  if (aborted()) return cancelled();

  nlohmann::json body = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object())
    return Error{ErrorKind::Internal,
                 "recalld at " + socket_path_ + " answered with something that is not a JSON object"};
  if (auto e = error_from_body(body)) {
    if (e->message.empty()) e->message = "recalld at " + socket_path_ + " answered with an error";
    return *e;
  }
  bool announced = body.contains("fd") && body["fd"].is_boolean() && body["fd"].get<bool>();
  if (announced && !passed)
    return Error{ErrorKind::Internal,
                 "recalld at " + socket_path_ + " announced a descriptor that did not arrive"};
  if (!announced) passed.reset();
  return DataReply{std::move(body), std::move(passed)};
}

}  // namespace recall
