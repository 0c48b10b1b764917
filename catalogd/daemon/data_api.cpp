// Api::handle_data: requests on the data socket (data_server.h). The one request so far, "open",
// hands recall-fs a read-only descriptor to a staged, verified copy of a version's content.
#include "catalogd/daemon/api.h"
#include "catalogd/daemon/read_connection.h"
#include "catalogd/service/catalog_view.h"

namespace recall::daemon {

std::string data_socket_path(const DaemonPaths& paths) { return paths.home + "/recalld-data.sock"; }
std::string stage_dir(const DaemonPaths& paths) { return paths.home + "/stage"; }

namespace {

// A member of the request of the JSON type `is`, or `def` when absent; Invalid when mistyped.
template <class T>
Result<T> field(const nlohmann::json& request, const char* name, bool (nlohmann::json::*is)() const noexcept,
                const char* what, std::optional<T> def = std::nullopt) {
  auto it = request.find(name);
  if (it == request.end()) {
    if (def) return *def;
    return make_error(ErrorKind::Invalid, std::string("the request has no \"") + name + "\" (" + what + ")");
  }
  if (!((*it).*is)()) return make_error(ErrorKind::Invalid, std::string("\"") + name + "\" must be " + what);
  return it->get<T>();
}

}  // namespace

// {"op":"open","version":ID,"nonblock":false[,"uid":U,"gid":G]} -> {"size":N,"sha256":"hex"} and the
// descriptor. A root client (recall-fs) names the user the read is for, so the tape bridge's queue,
// fairness and limits count it as theirs.
Result<std::pair<nlohmann::json, UniqueFd>> Api::handle_data(const HttpServer::Caller& caller,
                                                             const nlohmann::json& request,
                                                             const std::function<bool()>& cancelled) {
  auto op = field<std::string>(request, "op", &nlohmann::json::is_string, "a string: \"open\"");
  if (!op.ok()) return op.error();
  if (*op != "open")
    return make_error(ErrorKind::Invalid, "unknown data request \"" + *op + "\" (known: open)");
  auto version_id =
      field<std::int64_t>(request, "version", &nlohmann::json::is_number_integer, "a version id");
  if (!version_id.ok()) return version_id.error();
  auto nonblock = field<bool>(request, "nonblock", &nlohmann::json::is_boolean, "true or false", false);
  if (!nonblock.ok()) return nonblock.error();

  auto who = identity_for(caller.uid, caller.gid, config_.admin_group);
  if (!who.ok()) return who.error();
  Identity reader = *who;  // whom a staging from tape counts for
  if (caller.uid == 0 && request.contains("uid")) {
    auto uid = field<std::int64_t>(request, "uid", &nlohmann::json::is_number_integer, "a user id");
    auto gid = field<std::int64_t>(request, "gid", &nlohmann::json::is_number_integer, "a group id", 0);
    if (!uid.ok()) return uid.error();
    if (!gid.ok()) return gid.error();
    if (*uid < 0 || *uid > 0xFFFFFFFE || *gid < 0 || *gid > 0xFFFFFFFE)
      return make_error(ErrorKind::Invalid, "\"uid\" and \"gid\" must be ids");
    auto on_behalf =
        identity_for(static_cast<std::uint32_t>(*uid), static_cast<std::uint32_t>(*gid), config_.admin_group);
    if (on_behalf.ok()) {
      reader = *on_behalf;
    } else {  // a uid without an account (a container's, say) is still that uid in the queue
      reader = Identity{};
      reader.uid = static_cast<std::uint32_t>(*uid);
      reader.gid = static_cast<std::uint32_t>(*gid);
      reader.user = "uid " + std::to_string(*uid);
    }
  }
  auto rd = thread_reader(paths_.catalog);
  if (!rd.ok()) return rd.error();
  ReadSnapshot snapshot((*rd)->db());
  service::CatalogView view(**rd, *who, owners_);
  auto version = (*rd)->version_by_id(*version_id);
  if (!version.ok()) return version.error();
  // Root may open anything: a root-run recall-fs serves every user, and the kernel checks each
  // open against the mode, owner and ACL the mount presents. Anyone else by the catalog's rule.
  if (caller.uid != 0) {
    auto may = view.may_read_version(*version);
    if (!may.ok()) return may.error();
    if (!*may) {
      counters_.denied++;
      // No path in the message: it may lie below directories the caller cannot search.
      return make_error(ErrorKind::Denied, "you may not read version " + std::to_string(*version_id));
    }
  }
  if (version->meta.type != FileType::Regular)
    return make_error(ErrorKind::Invalid,
                      "version " + std::to_string(*version_id) + " is not a regular file");
  auto content = view.content_of(*version);
  if (!content.ok()) return content.error();
  auto chunks = view.chunks_of(*version);
  if (!chunks.ok()) return chunks.error();
  auto path = (*rd)->node_path(version->node_id);
  std::string host_name = "?";  // for the queue's "what"
  if (auto host = (*rd)->node_host(version->node_id); host.ok())
    if (auto name = (*rd)->host_name(*host); name.ok() && !name->empty()) host_name = *name;
  snapshot.end();  // staging may take long; it must not pin the catalog's snapshot

  nlohmann::json body = {{"size", content->size}};
  if (content->whole_sha) body["sha256"] = to_hex(content->sha);
  ReadRequest rq =
      read_request(reader, tape::Priority::Interactive, host_name, path.ok() ? *path : "?", content->id);
  rq.cancelled = cancelled;
  rq.nonblock = *nonblock;
  if (*nonblock) {
    // Data that waits for a tape is not read now: the mount answers EAGAIN. A copy staged
    // earlier is served all the same.
    if (auto online = source_.ready_now(*chunks); !online.ok()) {
      auto kept = stager_.cached(content->id);
      if (!kept.ok()) return kept.error();
      if (!*kept) return online.error();
      return std::pair{std::move(body), std::move(**kept)};
    }
  }
  auto fd = stager_.stage(*content, *chunks, rq);
  if (!fd.ok()) return fd.error();
  return std::pair{std::move(body), std::move(*fd)};
}

}  // namespace recall::daemon
