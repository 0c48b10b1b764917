// What every verb gets: the connection to recalld and the global flags.
#pragma once

#include <memory>
#include <string>

#include "catalogd/http/client_transport.h"

namespace recall::cli {

struct Context {
  std::string socket;
  bool json = false;
  std::unique_ptr<ClientTransport> client;
  ClientTransport& api() {
    if (!client) client = std::make_unique<ClientTransport>(socket);
    return *client;
  }
};

// "/v1/ls?host=a&path=%2Fx": every value percent-encoded.
std::string target(const std::string& path,
                   std::initializer_list<std::pair<const char*, std::string>> params);

std::string default_socket();

}  // namespace recall::cli
