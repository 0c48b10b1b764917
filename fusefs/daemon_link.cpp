#include "fusefs/daemon_link.h"

#include <cstdio>
#include <functional>
#include <memory>

#include "catalogd/http/client_transport.h"
#include "catalogd/http/url.h"

namespace recall::fs {
namespace {

constexpr const char* kOnBehalfHeader = "X-Recall-On-Behalf-Of";  // catalogd/daemon/api.h

ClientTransport& transport(const std::string& socket) {
  thread_local std::unique_ptr<ClientTransport> t;
  if (!t || t->socket_path() != socket) t = std::make_unique<ClientTransport>(socket);
  return *t;
}

// '/' cannot be in a name: U+2215 DIVISION SLASH reads like one in `ls`.
std::string flatten_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/')
      out += "\xe2\x88\x95";
    else
      out += c;
  }
  return out;
}

// A name the kernel and other filesystems accept (255 bytes): the middle of a long path gives
// way, the file name at its end stays whole where it can. The link target keeps the full path.
std::string fit_name(const std::string& head, const std::string& path) {
  constexpr std::size_t kMax = 255;
  if (head.size() + path.size() <= kMax) return head + path;
  // "…" and 8 hex digits of the full path's hash, so two long paths never share a name.
  char tag[16];
  std::snprintf(tag, sizeof tag, "%08zx", std::hash<std::string>{}(path)&0xffffffffu);
  const std::string ellipsis = "\xe2\x80\xa6" + std::string(tag) + "\xe2\x80\xa6";
  std::string h = head.substr(0, std::min(head.size(), kMax / 2));
  std::size_t keep = kMax - h.size() - ellipsis.size();
  std::size_t from = path.size() > keep ? path.size() - keep : 0;
  while (from < path.size() && (static_cast<unsigned char>(path[from]) & 0xC0) == 0x80)
    ++from;  // UTF-8 boundary
  return h + ellipsis + path.substr(from);
}

}  // namespace

DaemonLink::DaemonLink(std::string socket, bool speak_for_callers)
    : socket_(std::move(socket)), speak_for_callers_(speak_for_callers) {}

Result<nlohmann::json> DaemonLink::get_json(const Caller* who, const std::string& target) {
  auto& t = transport(socket_);
  t.set_header(kOnBehalfHeader,
               who && speak_for_callers_ ? std::to_string(who->uid) + " " + std::to_string(who->gid) : "");
  auto r = t.get(target);
  if (!r.ok() && r.error().kind == ErrorKind::Io) t.close();
  return r;
}

Result<std::string> DaemonLink::get_bytes(const Caller* who, const std::string& target) {
  auto& t = transport(socket_);
  t.set_header(kOnBehalfHeader,
               who && speak_for_callers_ ? std::to_string(who->uid) + " " + std::to_string(who->gid) : "");
  std::string body;
  auto s = t.get_stream(target, [&](std::span<const std::uint8_t> piece) {
    body.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return Status{};
  });
  if (!s.ok()) {
    if (s.error().kind == ErrorKind::Io) t.close();
    return s.error();
  }
  return body;
}

Result<nlohmann::json> DaemonLink::whoami() { return get_json(nullptr, "/v1/whoami"); }

Result<std::vector<HostInfo>> DaemonLink::hosts(const Caller& who) {
  auto j = get_json(&who, "/v1/fs/hosts");
  if (!j.ok()) return j.error();
  std::vector<HostInfo> out;
  try {
    for (const auto& h : j->at("hosts")) {
      HostInfo info{h.at("id"), h.at("name"), h.at("root_node"), {}};
      for (const auto& p : h.at("points")) {
        UnixTime at = p.at(2);
        info.points.push_back({p.at(0), p.at(1), at, format_utc(at)});
      }
      out.push_back(std::move(info));
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::Corrupt, std::string("recalld sent an unexpected host list: ") + e.what());
  }
  return out;
}

Result<std::vector<fswire::Listing>> DaemonLink::tree(std::int64_t point, std::int64_t node,
                                                      std::uint32_t budget) {
  auto b = get_bytes(nullptr, "/v1/fs/tree?point=" + std::to_string(point) + "&node=" + std::to_string(node) +
                                  "&budget=" + std::to_string(budget));
  if (!b.ok()) return b.error();
  return fswire::decode(*b);
}

Result<fswire::Listing> DaemonLink::lookup(std::int64_t point, std::int64_t node, const std::string& name) {
  auto b = get_bytes(nullptr, "/v1/fs/lookup?point=" + std::to_string(point) +
                                  "&node=" + std::to_string(node) + "&name=" + url_encode(name));
  if (!b.ok()) return b.error();
  auto l = fswire::decode(*b);
  if (!l.ok()) return l.error();
  if (l->size() != 1 || l->front().children.size() != 1)
    return make_error(ErrorKind::Corrupt, "recalld sent a malformed lookup answer");
  return std::move(l->front());
}

Result<fswire::Listing> DaemonLink::history(const Caller& who, const std::string& host, std::int64_t node) {
  auto b = get_bytes(&who, "/v1/fs/history?host=" + url_encode(host) + "&node=" + std::to_string(node));
  if (!b.ok()) return b.error();
  auto l = fswire::decode(*b);
  if (!l.ok()) return l.error();
  if (l->size() != 1) return make_error(ErrorKind::Corrupt, "recalld sent a malformed history listing");
  return std::move(l->front());
}

Result<nlohmann::json> DaemonLink::info(const Caller& who, std::int64_t version) {
  return get_json(&who, "/v1/fs/info?version=" + std::to_string(version));
}

Result<nlohmann::json> DaemonLink::staging(const Caller& who, std::int64_t version) {
  return get_json(&who, "/v1/fs/staging?version=" + std::to_string(version));
}

Result<std::vector<SearchEntry>> DaemonLink::search(const Caller& who, const std::string& query,
                                                    std::size_t limit) {
  auto j = get_json(&who, "/v1/search?q=" + url_encode(query) + "&limit=" + std::to_string(limit));
  if (!j.ok()) return j.error();
  std::vector<SearchEntry> out;
  try {
    for (const auto& h : j->at("results")) {
      // Names that are not UTF-8 come percent-encoded in path_raw; use the exact bytes.
      std::string path = h.at("path");
      if (h.contains("path_raw")) {
        auto raw = url_decode(h.at("path_raw").get<std::string>(), false);
        if (raw) path = *raw;
      }
      std::string host = h.at("host"), at = h.at("at");
      out.push_back({fit_name(host + "@" + at, flatten_path(path)), "../../" + host + "/" + at + path});
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::Corrupt, std::string("recalld sent unexpected search results: ") + e.what());
  }
  return out;
}

}  // namespace recall::fs
