#include "restic/tree.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/time.h"

namespace recall::restic {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

Error bad_node(std::size_t index, const std::string& name, const std::string& why) {
  return make_error(ErrorKind::Corrupt, "tree node " + std::to_string(index) +
                                            (name.empty() ? std::string() : " ('" + name + "')") + ": " +
                                            why);
}

std::optional<Digest> blob_id(const nlohmann::json& j) {
  Digest d{};
  if (!j.is_string() || !digest_from_hex(j.get_ref<const std::string&>(), d)) return std::nullopt;
  return d;
}

template <class T>
bool get_uint(const nlohmann::json& node, const char* key, T& out) {
  auto it = node.find(key);
  if (it == node.end() || it->is_null()) return true;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0)) return false;
  const auto v = it->get<std::uint64_t>();
  if (v > std::numeric_limits<T>::max()) return false;
  out = static_cast<T>(v);
  return true;
}

bool get_time(const nlohmann::json& node, const char* key, std::int64_t& out) {
  auto it = node.find(key);
  if (it == node.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  auto t = parse_time_ns(it->get_ref<const std::string&>());
  if (!t.ok()) return false;
  out = *t;
  return true;
}

std::string str(const nlohmann::json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<Node> parse_node(const nlohmann::json& j, std::size_t index) {
  if (!j.is_object()) return bad_node(index, "", "not an object");
  Node n;
  auto raw_name = go_unquote(str(j, "name"));
  if (!raw_name) return bad_node(index, str(j, "name"), "name has a malformed escape");
  n.name = std::move(*raw_name);
  if (n.name.empty() || n.name == "." || n.name == ".." || n.name.find('/') != std::string::npos ||
      n.name.find('\0') != std::string::npos)
    return bad_node(index, str(j, "name"), "name is empty, '.', '..', or holds '/' or NUL");
  if (n.name.size() > 255)
    return bad_node(index, n.name.substr(0, 40) + "...", "name is longer than 255 bytes");
  const std::string type = str(j, "type");
  if (type == "file")
    n.type = FileType::Regular;
  else if (type == "dir")
    n.type = FileType::Directory;
  else if (type == "symlink")
    n.type = FileType::Symlink;
  else if (type == "dev")
    n.type = FileType::BlockDevice;
  else if (type == "chardev")
    n.type = FileType::CharDevice;
  else if (type == "fifo")
    n.type = FileType::Fifo;
  else if (type == "socket")
    n.type = FileType::Socket;
  else if (type == "irregular")
    n.irregular = true;
  else
    return bad_node(index, n.name, "unknown type '" + type + "'");
  std::uint64_t go_mode = 0;
  if (!get_uint(j, "mode", go_mode) || !get_uint(j, "uid", n.uid) || !get_uint(j, "gid", n.gid) ||
      !get_uint(j, "inode", n.inode) || !get_uint(j, "device_id", n.device_id) ||
      !get_uint(j, "links", n.links) || !get_uint(j, "size", n.size) || !get_uint(j, "device", n.rdev))
    return bad_node(index, n.name, "a number field is not a non-negative integer");
  n.mode = posix_mode(go_mode);
  if (!get_time(j, "mtime", n.mtime_ns) || !get_time(j, "atime", n.atime_ns) ||
      !get_time(j, "ctime", n.ctime_ns))
    return bad_node(index, n.name, "a time is not RFC 3339");
  n.user = str(j, "user");
  n.group = str(j, "group");
  if (auto raw = j.find("linktarget_raw"); raw != j.end() && raw->is_string()) {
    auto d = base64_decode(raw->get<std::string>());
    if (!d) return bad_node(index, n.name, "linktarget_raw is not base64");
    n.link_target = std::move(*d);
  } else {
    n.link_target = str(j, "linktarget");
  }
  if (auto c = j.find("content"); c != j.end() && !c->is_null()) {
    if (!c->is_array()) return bad_node(index, n.name, "content is not a list");
    n.content.reserve(c->size());
    for (const auto& id : *c) {
      auto d = blob_id(id);
      if (!d) return bad_node(index, n.name, "content holds an ID that is not 64 hex digits");
      n.content.push_back(*d);
    }
  }
  if (n.type == FileType::Directory) {
    auto s = j.find("subtree");
    if (s == j.end() || !(n.subtree = blob_id(*s)))
      return bad_node(index, n.name, "directory without a subtree ID");
  }
  if (auto x = j.find("extended_attributes"); x != j.end() && x->is_array()) {
    for (const auto& a : *x) {
      if (!a.is_object()) return bad_node(index, n.name, "extended attribute is not an object");
      auto v = base64_decode(str(a, "value"));
      if (!v || str(a, "name").empty())
        return bad_node(index, n.name, "extended attribute without a name or base64 value");
      n.xattrs.emplace_back(str(a, "name"), std::move(*v));
    }
  }
  return n;
}

}  // namespace

std::optional<std::string> go_unquote(std::string_view q) {
  std::string out;
  out.reserve(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i] != '\\') {
      out += q[i];
      continue;
    }
    if (++i >= q.size()) return std::nullopt;
    const char c = q[i];
    auto hex = [&](std::size_t digits) -> std::optional<std::uint32_t> {
      std::uint32_t v = 0;
      for (std::size_t k = 1; k <= digits; ++k) {
        if (i + k >= q.size()) return std::nullopt;
        const int h = hex_value(q[i + k]);
        if (h < 0) return std::nullopt;
        v = v * 16 + static_cast<std::uint32_t>(h);
      }
      i += digits;
      return v;
    };
    switch (c) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case 'x': {
        auto v = hex(2);
        if (!v) return std::nullopt;
        out += static_cast<char>(*v);
        break;
      }
      case 'u':
      case 'U': {
        auto v = hex(c == 'u' ? 4 : 8);
        if (!v || *v > 0x10FFFF || (*v >= 0xD800 && *v <= 0xDFFF)) return std::nullopt;
        append_utf8(out, *v);
        break;
      }
      default: {
        if (c < '0' || c > '7' || i + 2 >= q.size()) return std::nullopt;
        std::uint32_t v = 0;
        for (int k = 0; k < 3; ++k) {
          const char d = q[i + k];
          if (d < '0' || d > '7') return std::nullopt;
          v = v * 8 + static_cast<std::uint32_t>(d - '0');
        }
        if (v > 255) return std::nullopt;
        out += static_cast<char>(v);
        i += 2;
      }
    }
  }
  return out;
}

std::uint32_t posix_mode(std::uint64_t go_mode) {
  std::uint32_t m = static_cast<std::uint32_t>(go_mode & 0777);
  if (go_mode & (1u << 23)) m |= 04000;
  if (go_mode & (1u << 22)) m |= 02000;
  if (go_mode & (1u << 20)) m |= 01000;
  return m;
}

Result<std::vector<Node>> parse_tree(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(ErrorKind::Corrupt, "tree is not a JSON object");
  auto nodes = j.find("nodes");
  std::vector<Node> out;
  if (nodes == j.end() || nodes->is_null()) return out;
  if (!nodes->is_array()) return make_error(ErrorKind::Corrupt, "tree's 'nodes' is not a list");
  out.reserve(nodes->size());
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    auto n = parse_node((*nodes)[i], i);
    if (!n.ok()) return n.error();
    out.push_back(std::move(*n));
  }
  return out;
}

}  // namespace recall::restic
