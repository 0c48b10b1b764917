#include "catalogd/daemon/json_views.h"

#include "auth/acl_io.h"
#include "catalogd/http/url.h"
#include "common/paths.h"

namespace recall::daemon {

const char* type_name(FileType t) {
  switch (t) {
    case FileType::Regular:
      return "file";
    case FileType::Directory:
      return "dir";
    case FileType::Symlink:
      return "symlink";
    case FileType::CharDevice:
      return "chardev";
    case FileType::BlockDevice:
      return "blockdev";
    case FileType::Fifo:
      return "fifo";
    case FileType::Socket:
      return "socket";
  }
  return "unknown";
}

std::optional<FileType> type_from_name(std::string_view n) {
  for (FileType t : {FileType::Regular, FileType::Directory, FileType::Symlink, FileType::CharDevice,
                     FileType::BlockDevice, FileType::Fifo, FileType::Socket})
    if (n == type_name(t)) return t;
  if (n == "f") return FileType::Regular;
  if (n == "d") return FileType::Directory;
  if (n == "l") return FileType::Symlink;
  return std::nullopt;
}

void put_bytes(nlohmann::json& j, const char* key, const std::string& bytes) {
  if (is_valid_utf8(bytes)) {
    j[key] = bytes;
    return;
  }
  j[key] = escape_for_display(bytes);
  j[std::string(key) + "_raw"] = url_encode(bytes);
}

nlohmann::json meta_json(const FileMeta& m) {
  nlohmann::json j;
  j["type"] = type_name(m.type);
  j["mode"] = m.mode;
  j["uid"] = m.uid;
  j["gid"] = m.gid;
  j["user"] = m.user;
  j["group"] = m.group;
  j["size"] = m.size;
  j["mtime"] = format_utc(m.mtime_ns / 1000000000);
  j["mtime_ns"] = m.mtime_ns;
  j["ctime_ns"] = m.ctime_ns;
  j["ino"] = m.ino;
  j["nlink"] = m.nlink;
  if (m.type == FileType::CharDevice || m.type == FileType::BlockDevice) j["rdev"] = m.rdev;
  if (m.type == FileType::Symlink) put_bytes(j, "target", m.link_target);
  if (!m.xattrs.empty()) {
    nlohmann::json x = nlohmann::json::object();
    for (const auto& [k, v] : m.xattrs) x[k] = url_encode(v);
    j["xattrs"] = std::move(x);
  }
  if (!m.acl.empty()) j["acl"] = acl_to_text(m.acl);
  if (!m.default_acl.empty()) j["default_acl"] = acl_to_text(m.default_acl);
  return j;
}

nlohmann::json host_json(const store::HostRow& h) {
  return {{"name", h.name},
          {"points", h.points},
          {"first", format_utc(h.first_at)},
          {"latest", format_utc(h.last_at)}};
}

nlohmann::json point_json(const store::PointRow& p, const std::string& host) {
  return {
      {"host", host}, {"at", format_utc(p.at)}, {"seq", p.seq}, {"kind", p.kind}, {"importer", p.importer}};
}

nlohmann::json entry_json(const service::ListedEntry& e, const std::string& dir_path) {
  nlohmann::json j;
  if (e.meta_visible) {
    j = meta_json(e.version.meta);
  } else {
    j["type"] = type_name(e.version.meta.type);  // what readdir's d_type would tell
  }
  put_bytes(j, "name", e.name);
  put_bytes(j, "path", dir_path == "/" ? "/" + e.name : dir_path + "/" + e.name);
  return j;
}

nlohmann::json version_json(const service::VersionInfo& v) {
  nlohmann::json j = meta_json(v.version.meta);
  j["first_seen"] = format_utc(v.first_at);
  j["last_seen"] = format_utc(v.last_at);
  j["points"] = v.points;
  j["current"] = v.current;
  if (!v.sha256.empty()) j["sha256"] = v.sha256;
  if (!v.unavailable.empty()) j["unavailable"] = v.unavailable;
  return j;
}

nlohmann::json hit_json(const service::SearchHit& h) {
  nlohmann::json j = meta_json(h.version.meta);
  j["host"] = h.host;
  put_bytes(j, "path", h.path);
  put_bytes(j, "name", h.name);
  j["at"] = format_utc(h.at);
  j["first_seen"] = format_utc(h.first_at);
  j["match"] = h.match == 0 ? "exact" : h.match == 1 ? "prefix" : "substring";
  return j;
}

}  // namespace recall::daemon
