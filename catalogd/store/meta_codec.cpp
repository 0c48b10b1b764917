#include "catalogd/store/meta_codec.h"

#include <nlohmann/json.hpp>

#include "common/sha256.h"

namespace recall::store {
namespace {

nlohmann::json acl_json(const std::vector<AclEntry>& acl) {
  auto a = nlohmann::json::array();
  for (const auto& e : acl) a.push_back({static_cast<int>(e.tag), e.id, e.name, e.perm});
  return a;
}

std::vector<AclEntry> acl_from(const nlohmann::json& a) {
  std::vector<AclEntry> out;
  for (const auto& e : a)
    out.push_back({static_cast<AclEntry::Tag>(e.at(0).get<int>()), e.at(1).get<std::uint32_t>(),
                   e.at(2).get<std::string>(), e.at(3).get<std::uint8_t>()});
  return out;
}

}  // namespace

std::string encode_extra(const FileMeta& m) {
  if (m.xattrs.empty() && m.acl.empty() && m.default_acl.empty()) return {};
  nlohmann::json j = nlohmann::json::object();
  if (!m.xattrs.empty()) {
    // Values are arbitrary bytes: hex keeps the JSON valid whatever they hold.
    auto x = nlohmann::json::array();
    for (const auto& [k, v] : m.xattrs)
      x.push_back({k, to_hex({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()})});
    j["x"] = std::move(x);
  }
  if (!m.acl.empty()) j["a"] = acl_json(m.acl);
  if (!m.default_acl.empty()) j["d"] = acl_json(m.default_acl);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void decode_extra(const std::string& text, FileMeta& m) {
  if (text.empty()) return;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return;
  if (j.contains("x")) {
    for (const auto& e : j["x"]) {
      std::string hex = e.at(1).get<std::string>(), bytes;
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      m.xattrs.emplace_back(e.at(0).get<std::string>(), std::move(bytes));
    }
  }
  if (j.contains("a")) m.acl = acl_from(j["a"]);
  if (j.contains("d")) m.default_acl = acl_from(j["d"]);
}

char type_code(FileType t) { return static_cast<char>(t); }
FileType type_from_code(char c) { return static_cast<FileType>(c); }

}  // namespace recall::store
