#include "catalogd/http/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace recall {
namespace {

// Removes a socket file left behind by a server that died, refusing to touch a live socket or
// anything that is not a socket.
Status remove_stale_socket(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return io_error("cannot inspect " + path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Error{ErrorKind::Conflict, path + " exists and is not a socket; refusing to replace it"};
  }
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return io_error("socket", errno);
  int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(probe);
  if (rc == 0) return Error{ErrorKind::Conflict, "another server is already listening on " + path};
  if (err != ECONNREFUSED) return io_error("cannot probe the existing socket " + path, err);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return io_error("cannot remove stale socket " + path, errno);
  return {};
}

// What a person should do about a failed connect(2) to one of recalld's sockets in its home.
std::string connect_hint(const std::string& path, int err) {
  if (err == EACCES || err == EPERM) return " — check the permissions of " + path + " and its directories";
  std::string home = "DIR";
  for (std::string_view name : {"/recalld.sock", "/recalld-data.sock"}) {
    if (path.size() > name.size() && path.ends_with(name)) home = path.substr(0, path.size() - name.size());
  }
  return " — is it running? (start it with: recalld --home " + home + ")";
}

}  // namespace

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty()) return Error{ErrorKind::Invalid, "the socket path is empty"};
  if (path.size() >= sizeof(addr.sun_path)) {
    return Error{ErrorKind::Invalid, "socket path " + path + " is too long (" + std::to_string(path.size()) +
                                         " bytes; Unix sockets allow " +
                                         std::to_string(sizeof(addr.sun_path) - 1) + ")"};
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

Result<UnixListener> listen_unix(const std::string& path, int type_flags) {
  auto addr = unix_address(path);
  RECALL_TRY(addr);
  RECALL_TRY(remove_stale_socket(path, *addr));
  UnixListener l;
  l.fd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0));
  if (!l.fd) return io_error("socket", errno);
  if (::bind(l.fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0)
    return io_error("cannot bind " + path, errno);
  struct stat st {};
  if (::chmod(path.c_str(), 0666) != 0 || ::stat(path.c_str(), &st) != 0 ||
      ::listen(l.fd.get(), SOMAXCONN) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return io_error("cannot set up " + path, err);
  }
  l.dev = st.st_dev;
  l.ino = st.st_ino;
  return l;
}

void remove_socket_file(const std::string& path, dev_t dev, ino_t ino) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino) ::unlink(path.c_str());
}

Result<UniqueFd> connect_to_recalld(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error{ErrorKind::Invalid, "cannot reach recalld at " + path +
                                         ": the socket path is empty or longer than " +
                                         std::to_string(sizeof(addr.sun_path) - 1) + " bytes"};
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return io_error("cannot create a socket", errno);
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    return Error{ErrorKind::Io,
                 "cannot reach recalld at " + path + ": " + std::strerror(err) + connect_hint(path, err)};
  }
  return fd;
}

}  // namespace recall
