// Unix stream sockets shared by recalld's servers (HTTP, data) and the clients that reach them.
#pragma once

#include <sys/types.h>
#include <sys/un.h>

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace recall {

// The address of `path`; Invalid when it is empty or longer than sun_path allows.
Result<sockaddr_un> unix_address(const std::string& path);

struct UnixListener {
  UniqueFd fd;
  dev_t dev = 0;  // of the socket file, so that only our own file is ever removed
  ino_t ino = 0;
};

// Binds `path` and listens; `type_flags` are added to socket(2)'s type (SOCK_NONBLOCK). The socket
// is chmod 0666: every local user may connect, and their identity comes from peer credentials.
// A socket file left by a dead server is removed first, which is only safe when the caller holds
// the DaemonLock (daemon_lock.h). A live socket, or a path that is not a socket, is never removed
// (Conflict).
Result<UnixListener> listen_unix(const std::string& path, int type_flags = 0);

// Removes the socket file at `path` if it is still the one that was bound (same device and inode),
// not one put there by someone else after a forced unlock.
void remove_socket_file(const std::string& path, dev_t dev, ino_t ino);

// Connects a blocking, close-on-exec stream socket to recalld at `path`. Failure is Io (Invalid
// for an unusable path) with a message naming the socket and the reason, and saying what to do:
// start recalld, or check permissions.
Result<UniqueFd> connect_to_recalld(const std::string& path);

}  // namespace recall
