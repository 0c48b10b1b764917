#include "importers/manifest.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/paths.h"
#include "common/time.h"
#include "importers/tree_image.h"

namespace recall::import {
namespace {

using json = nlohmann::json;

struct LineError {
  std::size_t line;
  Error operator()(const std::string& why) const {
    return make_error(ErrorKind::Invalid, "line " + std::to_string(line) + ": " + why);
  }
};

// Exact integers only: JSON numbers with a fraction or exponent, or out of range, are refused.
Result<std::uint64_t> get_uint(const json& o, const char* key, const LineError& bad, std::uint64_t max) {
  const auto& v = o.at(key);
  if (!v.is_number_integer() ||
      (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0))
    return bad(std::string("'") + key + "' must be a non-negative integer");
  const auto u = v.get<std::uint64_t>();
  if (u > max) return bad(std::string("'") + key + "' is too large (" + std::to_string(u) + ")");
  return u;
}

Result<std::string> get_string(const json& o, const char* key, const LineError& bad) {
  const auto& v = o.at(key);
  if (!v.is_string()) return bad(std::string("'") + key + "' must be a string");
  return v.get<std::string>();
}

Result<std::int64_t> get_time(const json& o, const char* key, const LineError& bad) {
  auto s = get_string(o, key, bad);
  if (!s.ok()) return s.error();
  auto t = parse_time_ns(*s);
  if (!t.ok()) return bad(std::string("'") + key + "': " + t.error().message);
  return *t;
}

// `key` as a JSON string, or `key_b64` as base64 of raw bytes: exactly one of them.
Result<std::optional<std::string>> get_bytes(const json& o, const std::string& key, const LineError& bad) {
  const bool plain = o.contains(key), b64 = o.contains(key + "_b64");
  if (plain && b64) return bad("give '" + key + "' or '" + key + "_b64', not both");
  if (plain) {
    auto s = get_string(o, key.c_str(), bad);
    if (!s.ok()) return s.error();
    return std::optional<std::string>(*s);
  }
  if (b64) {
    auto s = get_string(o, (key + "_b64").c_str(), bad);
    if (!s.ok()) return s.error();
    auto d = base64_decode(*s);
    if (!d) return bad("'" + key + "_b64' is not valid base64");
    return std::optional<std::string>(*d);
  }
  return std::optional<std::string>();
}

// A manifest path: absolute, '/'-separated, no trailing '/', no '.', '..' or empty components.
Result<std::vector<std::string>> path_parts(const std::string& p, const LineError& bad) {
  if (p.empty() || p.front() != '/') return bad("path '" + escape_for_display(p) + "' is not absolute");
  if (p.find('\0') != std::string::npos) return bad("path '" + escape_for_display(p) + "' holds a NUL byte");
  if (p.size() > 4096) return bad("a path of " + std::to_string(p.size()) + " bytes (over 4096)");
  std::vector<std::string> parts;
  if (p == "/") return parts;
  std::size_t i = 1;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c.empty() || c == "." || c == "..")
      return bad("path '" + escape_for_display(p) + "' has an empty, '.' or '..' component");
    if (c.size() > 255)
      return bad("path '" + escape_for_display(p.substr(0, 80)) + "...' has a component over 255 bytes");
    parts.push_back(std::move(c));
    i = j + 1;
  }
  return parts;
}

std::optional<FileType> type_from(const std::string& t) {
  if (t == "file" || t == "hardlink") return FileType::Regular;
  if (t == "dir") return FileType::Directory;
  if (t == "symlink") return FileType::Symlink;
  if (t == "chardev") return FileType::CharDevice;
  if (t == "blockdev") return FileType::BlockDevice;
  if (t == "fifo") return FileType::Fifo;
  if (t == "socket") return FileType::Socket;
  return std::nullopt;
}

// POSIX.1e short or long text form: "user::rw-,user:alice:r--,group::r-x,mask::r-x,other::---".
Result<std::vector<AclEntry>> parse_acl_text(const std::string& text, const LineError& bad) {
  std::vector<AclEntry> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = text.find_first_of(",\n", i);
    if (j == std::string::npos) j = text.size();
    std::string item = text.substr(i, j - i);
    i = j + 1;
    if (item.empty()) continue;
    const auto c1 = item.find(':'), c2 = item.find(':', c1 == std::string::npos ? c1 : c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos)
      return bad("acl_text entry '" + item + "' is not tag:qualifier:perms");
    const std::string tag = item.substr(0, c1), qual = item.substr(c1 + 1, c2 - c1 - 1);
    std::string perms = item.substr(c2 + 1);
    if (auto c3 = perms.find(':'); c3 != std::string::npos) perms.resize(c3);  // an extra numeric id field
    AclEntry a;
    if (tag == "user" || tag == "u")
      a.tag = qual.empty() ? AclEntry::Tag::UserObj : AclEntry::Tag::User;
    else if (tag == "group" || tag == "g")
      a.tag = qual.empty() ? AclEntry::Tag::GroupObj : AclEntry::Tag::Group;
    else if (tag == "mask" || tag == "m")
      a.tag = AclEntry::Tag::Mask;
    else if (tag == "other" || tag == "o")
      a.tag = AclEntry::Tag::Other;
    else
      return bad("acl_text entry '" + item + "' has an unknown tag");
    if (!qual.empty()) {
      if (qual.find_first_not_of("0123456789") == std::string::npos && qual.size() < 10)
        a.id = static_cast<std::uint32_t>(std::stoul(qual));
      else
        a.name = qual;
    }
    if (perms.size() != 3)
      return bad("acl_text entry '" + item + "' needs three permission letters (rwx or -)");
    a.perm = static_cast<std::uint8_t>((perms[0] == 'r' ? 4 : 0) | (perms[1] == 'w' ? 2 : 0) |
                                       (perms[2] == 'x' ? 1 : 0));
    out.push_back(std::move(a));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const AclEntry& x, const AclEntry& y) { return x.tag < y.tag; });
  if (out.size() <= 3) out.clear();  // the mode bits say it all
  return out;
}

Result<ManifestLocation> parse_location(const json& l, const LineError& bad) {
  if (!l.is_object()) return bad("each of 'locations' must be an object");
  ManifestLocation loc;
  if (!l.contains("volume")) return bad("a location needs 'volume'");
  auto vol = get_string(l, "volume", bad);
  if (!vol.ok()) return vol.error();
  if (vol->empty() || vol->size() > 64) return bad("location 'volume' must be 1-64 characters");
  loc.volume = *vol;
  if (l.contains("copy")) {
    auto c = get_uint(l, "copy", bad, 255);
    if (!c.ok()) return c.error();
    if (*c < 1) return bad("location 'copy' counts from 1");
    loc.copy = static_cast<int>(*c);
  }
  for (auto [key, field] : {std::pair{"offset", &loc.offset}, {"length", &loc.length}, {"file", &loc.file}}) {
    if (!l.contains(key)) continue;
    auto v = get_uint(l, key, bad, static_cast<std::uint64_t>(INT64_MAX));
    if (!v.ok()) return v.error();
    *field = *v;
  }
  if (l.contains("container")) {
    auto c = get_string(l, "container", bad);
    if (!c.ok()) return c.error();
    loc.container = *c;
  }
  if (l.contains("transform")) {
    if (!l["transform"].is_array()) return bad("location 'transform' must be an array of strings");
    for (const auto& t : l["transform"]) {
      if (!t.is_string()) return bad("location 'transform' must be an array of strings");
      loc.transform.push_back(t.get<std::string>());
    }
  }
  return loc;
}

Result<ManifestEntry> parse_entry(const json& o, const LineError& bad) {
  ManifestEntry e;
  e.line = bad.line;
  if (!o.contains("set")) return bad("an entry needs 'set'");
  auto set = get_string(o, "set", bad);
  if (!set.ok()) return set.error();
  e.set = *set;
  std::string state = "present";
  if (o.contains("state")) {
    auto s = get_string(o, "state", bad);
    if (!s.ok()) return s.error();
    state = *s;
  }
  if (state == "present")
    e.state = ManifestEntry::State::Present;
  else if (state == "unchanged")
    e.state = ManifestEntry::State::Unchanged;
  else if (state == "deleted")
    e.state = ManifestEntry::State::Deleted;
  else
    return bad("'state' must be present, unchanged or deleted, not '" + state + "'");
  auto path = get_bytes(o, "path", bad);
  if (!path.ok()) return path.error();
  if (!*path) return bad("an entry needs 'path' or 'path_b64'");
  auto parts = path_parts(**path, bad);
  if (!parts.ok()) return parts.error();
  e.parts = std::move(*parts);
  if (e.state != ManifestEntry::State::Present) return e;

  if (!o.contains("type")) return bad("a present entry needs 'type'");
  auto type = get_string(o, "type", bad);
  if (!type.ok()) return type.error();
  auto ft = type_from(*type);
  if (!ft)
    return bad("'type' '" + *type + "' is not one of file dir symlink hardlink chardev blockdev fifo socket");
  FileMeta& m = e.meta;
  m.type = *ft;
  if (!o.contains("size")) return bad("a present entry needs 'size'");
  auto size = get_uint(o, "size", bad, static_cast<std::uint64_t>(INT64_MAX));
  if (!size.ok()) return size.error();
  m.size = m.type == FileType::Regular ? *size : 0;
  if (o.contains("mode")) {
    auto mode = get_uint(o, "mode", bad, 07777);
    if (!mode.ok()) return mode.error();
    m.mode = static_cast<std::uint32_t>(*mode);
  } else {
    m.mode = m.type == FileType::Directory ? 0755 : 0644;
  }
  for (auto [key, field] : {std::pair{"uid", &m.uid}, {"gid", &m.gid}}) {
    if (!o.contains(key)) continue;
    auto v = get_uint(o, key, bad, UINT32_MAX);
    if (!v.ok()) return v.error();
    *field = static_cast<std::uint32_t>(*v);
  }
  for (auto [key, field] : {std::pair{"user", &m.user}, {"group", &m.group}}) {
    if (!o.contains(key)) continue;
    auto v = get_string(o, key, bad);
    if (!v.ok()) return v.error();
    *field = *v;
  }
  if (o.contains("mtime")) {
    auto t = get_time(o, "mtime", bad);
    if (!t.ok()) return t.error();
    m.mtime_ns = *t;
    e.has_mtime = true;
  }
  m.ctime_ns = m.mtime_ns;
  if (o.contains("ctime")) {
    auto t = get_time(o, "ctime", bad);
    if (!t.ok()) return t.error();
    m.ctime_ns = *t;
  }
  auto target = get_bytes(o, "link_target", bad);
  if (!target.ok()) return target.error();
  if (m.type == FileType::Symlink) {
    if (!*target) return bad("a symlink needs 'link_target' or 'link_target_b64'");
    if ((*target)->find('\0') != std::string::npos) return bad("'link_target' holds a NUL byte");
    m.link_target = **target;
    m.size = m.link_target.size();
  }
  if (*type == "hardlink") {
    if (!o.contains("hardlink_to")) return bad("a hardlink needs 'hardlink_to'");
    auto to = get_string(o, "hardlink_to", bad);
    if (!to.ok()) return to.error();
    auto tp = path_parts(*to, bad);
    if (!tp.ok()) return tp.error();
    e.hardlink_to = join_point_path(*tp);
  }
  if (m.type == FileType::CharDevice || m.type == FileType::BlockDevice) {
    std::uint64_t major = 0, minor = 0;
    if (o.contains("rdev_major")) {
      auto v = get_uint(o, "rdev_major", bad, 0xfffff);
      if (!v.ok()) return v.error();
      major = *v;
    }
    if (o.contains("rdev_minor")) {
      auto v = get_uint(o, "rdev_minor", bad, 0xfffff);
      if (!v.ok()) return v.error();
      minor = *v;
    }
    // glibc's makedev layout.
    m.rdev = ((major & 0xfffff000ull) << 32) | ((major & 0xfffull) << 8) | ((minor & 0xffffff00ull) << 12) |
             (minor & 0xffull);
  }
  if (o.contains("hashes")) {
    const auto& h = o["hashes"];
    if (!h.is_object()) return bad("'hashes' must be an object of algorithm → hex");
    if (h.contains("sha256")) {
      Digest d{};
      if (!h["sha256"].is_string() || !digest_from_hex(h["sha256"].get<std::string>(), d))
        return bad("'hashes.sha256' must be 64 hex digits");
      e.sha256 = d;
    }
  }
  if (o.contains("xattrs")) {
    const auto& x = o["xattrs"];
    if (!x.is_object()) return bad("'xattrs' must be an object of name → base64");
    for (const auto& [name, value] : x.items()) {
      if (!value.is_string()) return bad("xattr '" + escape_for_display(name) + "' must be base64 text");
      auto v = base64_decode(value.get<std::string>());
      if (!v) return bad("xattr '" + escape_for_display(name) + "' is not valid base64");
      m.xattrs.emplace_back(name, std::move(*v));
    }
    std::sort(m.xattrs.begin(), m.xattrs.end());
  }
  if (o.contains("acl_text")) {
    auto text = get_string(o, "acl_text", bad);
    if (!text.ok()) return text.error();
    auto acl = parse_acl_text(*text, bad);
    if (!acl.ok()) return acl.error();
    m.acl = std::move(*acl);
  }
  if (o.contains("locations")) {
    if (!o["locations"].is_array()) return bad("'locations' must be an array");
    for (const auto& l : o["locations"]) {
      auto loc = parse_location(l, bad);
      if (!loc.ok()) return loc.error();
      e.locations.push_back(std::move(*loc));
    }
  }
  return e;
}

}  // namespace

Result<ManifestLine> parse_manifest_line(std::string_view text, std::size_t line) {
  const LineError bad{line};
  if (text.size() > kMaxManifestLine) return bad("longer than 1 MiB");
  json o = json::parse(text, nullptr, false);
  if (o.is_discarded()) return bad("not valid JSON");
  if (!o.is_object()) return bad("not a JSON object");
  if (!o.contains("rec") || !o["rec"].is_string()) return bad("no 'rec' (header, set or entry)");
  const std::string rec = o["rec"].get<std::string>();
  ManifestLine out;
  try {
    if (rec == "header") {
      out.kind = ManifestLine::Kind::Header;
      if (o.value("format", "") != "recall-manifest") return bad("'format' must be \"recall-manifest\"");
      if (!o.contains("version") || !o["version"].is_number_integer() ||
          o["version"].get<std::int64_t>() != 1)
        return bad("only manifest version 1 is understood");
      if (o.contains("source")) {
        auto s = get_string(o, "source", bad);
        if (!s.ok()) return s.error();
        out.header.source = *s;
      }
      if (o.contains("path_style")) {
        auto s = get_string(o, "path_style", bad);
        if (!s.ok()) return s.error();
        if (*s != "posix" && *s != "windows") return bad("'path_style' must be posix or windows");
        out.header.path_style = *s;
      }
      if (o.contains("generated")) {
        auto t = get_time(o, "generated", bad);
        if (!t.ok()) return t.error();
        out.header.generated_ns = *t;
      }
      return out;
    }
    if (rec == "set") {
      out.kind = ManifestLine::Kind::Set;
      ManifestSet& s = out.set;
      s.line = line;
      for (auto [key, field] : {std::pair{"set", &s.id}, {"host", &s.host}}) {
        if (!o.contains(key)) return bad(std::string("a set needs '") + key + "'");
        auto v = get_string(o, key, bad);
        if (!v.ok()) return v.error();
        if (v->empty()) return bad(std::string("'") + key + "' is empty");
        *field = *v;
      }
      if (!o.contains("point_time")) return bad("a set needs 'point_time'");
      auto t = get_time(o, "point_time", bad);
      if (!t.ok()) return t.error();
      s.point_time_ns = *t;
      s.kind = "full";
      if (o.contains("kind")) {
        auto k = get_string(o, "kind", bad);
        if (!k.ok()) return k.error();
        if (*k != "full" && *k != "incremental") return bad("'kind' must be full or incremental");
        s.kind = *k;
      }
      for (auto [key, field] : {std::pair{"parent", &s.parent}, {"label", &s.label}}) {
        if (!o.contains(key)) continue;
        auto v = get_string(o, key, bad);
        if (!v.ok()) return v.error();
        *field = *v;
      }
      if (s.kind == "incremental" && s.parent.empty()) return bad("an incremental set needs a 'parent'");
      return out;
    }
    if (rec == "entry") {
      auto e = parse_entry(o, bad);
      if (!e.ok()) return e.error();
      out.kind = ManifestLine::Kind::Entry;
      out.entry = std::move(*e);
      return out;
    }
  } catch (const json::exception& ex) {  // a type the checks above did not foresee
    return bad(std::string("malformed: ") + ex.what());
  }
  return bad("unknown 'rec' '" + escape_for_display(rec) + "'");
}

Status ManifestBuilder::add_line(std::string_view text) {
  ++line_;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (line_ == 1 && text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF")
    return make_error(ErrorKind::Invalid, "line 1: starts with a byte-order mark (the format has none)");
  if (text.find_first_not_of(" \t") == std::string_view::npos) return {};  // blank lines are allowed
  auto l = parse_manifest_line(text, line_);
  if (!l.ok()) return l.error();
  const LineError bad{line_};
  if (!have_header_ && l->kind != ManifestLine::Kind::Header)
    return bad("the first line must be the header {\"rec\":\"header\",\"format\":\"recall-manifest\",...}");
  switch (l->kind) {
    case ManifestLine::Kind::Header:
      if (have_header_) return bad("a second header");
      have_header_ = true;
      m_.header = std::move(l->header);
      return {};
    case ManifestLine::Kind::Set: {
      if (set_index_.count(l->set.id)) return bad("set '" + l->set.id + "' is defined twice");
      if (!l->set.parent.empty()) {
        auto p = set_index_.find(l->set.parent);
        if (p == set_index_.end()) return bad("parent set '" + l->set.parent + "' is not defined before it");
        const auto& parent = m_.sets[p->second];
        if (parent.host != l->set.host) return bad("parent set '" + parent.id + "' is of another host");
        if (parent.point_time_ns >= l->set.point_time_ns)
          return bad("set '" + l->set.id + "' is not newer than its parent '" + parent.id + "'");
      }
      set_index_[l->set.id] = m_.sets.size();
      m_.sets.push_back(std::move(l->set));
      return {};
    }
    case ManifestLine::Kind::Entry: {
      if (!set_index_.count(l->entry.set))
        return bad("entry of set '" + l->entry.set + "', which is not defined before it");
      m_.entries[l->entry.set].push_back(std::move(l->entry));
      return {};
    }
  }
  return {};
}

Result<Manifest> ManifestBuilder::finish() {
  if (!have_header_) return make_error(ErrorKind::Invalid, "the manifest is empty (no header line)");
  if (m_.sets.empty()) return make_error(ErrorKind::Invalid, "the manifest defines no set");
  for (auto& [set, list] : m_.entries) {
    std::map<std::vector<std::string>, std::size_t> seen;
    for (const auto& e : list) {
      auto [it, fresh] = seen.emplace(e.parts, e.line);
      if (!fresh)
        return make_error(ErrorKind::Invalid, "line " + std::to_string(e.line) + ": path '" +
                                                  escape_for_display(join_point_path(e.parts)) +
                                                  "' is listed twice in set '" + set + "' (first on line " +
                                                  std::to_string(it->second) + ")");
    }
  }
  return std::move(m_);
}

}  // namespace recall::import
