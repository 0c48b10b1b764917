#include "restic/repository.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/time.h"
#include "restic/blob.h"

namespace recall::restic {
namespace {

// Unpacked files and key files are read whole; none is near this in a real repository.
constexpr std::uint64_t kMaxObjectFile = std::uint64_t{1} << 30;

Result<std::vector<std::uint8_t>> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open " + path, errno);
  UniqueFd f(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) return io_error("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::Invalid, path + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxObjectFile)
    return make_error(ErrorKind::Corrupt, path + ": larger than 1 GiB");
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read " + path, errno);
    if (n == 0)
      return make_error(ErrorKind::Corrupt, path + ": shorter than its size (truncated while read)");
    got += static_cast<std::size_t>(n);
  }
  return buf;
}

// The object files of a flat directory (keys/, snapshots/, index/), sorted; hidden and
// temporary files (restic writes "<id>-tmp-..." before renaming) are not objects.
Result<std::vector<std::string>> list_objects(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return io_error("cannot list " + dir, errno);
  std::vector<std::string> out;
  while (dirent* e = readdir(d))
    if (is_hex_id(e->d_name)) out.emplace_back(e->d_name);
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Result<Key> open_key_file(const std::string& path, std::string_view password, bool& wrong_password) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.error();
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorKind::Corrupt, path + ": key file is not JSON");
  if (j.value("kdf", "") != "scrypt")
    return make_error(ErrorKind::Corrupt,
                      path + ": key file uses KDF '" + j.value("kdf", "") + "', not scrypt");
  auto salt = base64_decode(j.value("salt", ""));
  auto data = base64_decode(j.value("data", ""));
  if (!salt || salt->size() != 64 || !data)
    return make_error(ErrorKind::Corrupt, path + ": key file's salt or data is not base64 of the right size");
  auto num = [&](const char* k) -> std::uint64_t {
    auto it = j.find(k);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
  };
  if (num("r") > UINT32_MAX || num("p") > UINT32_MAX)
    return make_error(ErrorKind::Corrupt, path + ": scrypt parameters out of range");
  auto user =
      derive_user_key(password, {reinterpret_cast<const std::uint8_t*>(salt->data()), salt->size()}, num("N"),
                      static_cast<std::uint32_t>(num("r")), static_cast<std::uint32_t>(num("p")));
  if (!user.ok()) return make_error(user.error().kind, path + ": " + user.error().message);
  auto plain = open_envelope(*user, {reinterpret_cast<const std::uint8_t*>(data->data()), data->size()});
  if (!plain.ok()) {
    wrong_password = plain.error().kind == ErrorKind::Corrupt;
    return make_error(plain.error().kind, path + ": " + plain.error().message);
  }
  auto master = key_from_json({reinterpret_cast<const char*>(plain->data()), plain->size()});
  if (!master.ok()) return make_error(ErrorKind::Corrupt, path + ": " + master.error().message);
  return master;
}

}  // namespace

bool is_hex_id(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<Repository> Repository::open(const std::string& dir, std::string_view password) {
  Repository repo;
  repo.dir_ = dir;
  struct stat st {};
  if (::stat((dir + "/config").c_str(), &st) != 0 || ::stat((dir + "/keys").c_str(), &st) != 0)
    return make_error(ErrorKind::Invalid, dir + ": not a restic repository (no config or keys/)");
  auto keys = list_objects(dir + "/keys");
  if (!keys.ok()) return keys.error();
  if (keys->empty()) return make_error(ErrorKind::Invalid, dir + ": the repository has no key files");
  std::optional<Error> other;
  bool opened = false;
  for (const auto& k : *keys) {
    bool wrong = false;
    auto key = open_key_file(dir + "/keys/" + k, password, wrong);
    if (key.ok()) {
      repo.key_ = *key;
      opened = true;
      break;
    }
    if (!wrong && !other) other = key.error();
  }
  if (!opened) {
    if (other) return *other;
    return make_error(ErrorKind::Denied, dir + ": wrong password (none of the repository's " +
                                             std::to_string(keys->size()) + " key file(s) opens with it)");
  }
  auto cfg = repo.read_unpacked(dir + "/config");
  if (!cfg.ok()) return cfg.error();
  auto j = nlohmann::json::parse(cfg->begin(), cfg->end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(ErrorKind::Corrupt, dir + "/config: not JSON");
  repo.version_ = j.value("version", 0);
  repo.id_ = j.value("id", "");
  if (repo.version_ != 1 && repo.version_ != 2)
    return make_error(ErrorKind::Invalid, dir + ": repository format version " +
                                              std::to_string(repo.version_) +
                                              " (Recall reads versions 1 and 2)");
  if (!is_hex_id(repo.id_))
    return make_error(ErrorKind::Corrupt, dir + "/config: the repository ID is malformed");
  return repo;
}

Result<std::vector<std::uint8_t>> Repository::read_unpacked(const std::string& path) const {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.error();
  auto plain = open_envelope(key_, *bytes);
  if (!plain.ok()) return make_error(plain.error().kind, path + ": " + plain.error().message);
  return plain;
}

Result<std::vector<Snapshot>> Repository::snapshots() const {
  auto names = list_objects(dir_ + "/snapshots");
  if (!names.ok()) return names.error();
  std::vector<Snapshot> out;
  for (const auto& name : *names) {
    const std::string path = dir_ + "/snapshots/" + name;
    auto plain = read_unpacked(path);
    if (!plain.ok()) return plain.error();
    auto text = unpacked_json(std::move(*plain), version_);
    if (!text.ok()) return make_error(text.error().kind, path + ": " + text.error().message);
    auto j = nlohmann::json::parse(*text, nullptr, false);
    auto bad = [&](const std::string& why) { return make_error(ErrorKind::Corrupt, path + ": " + why); };
    if (j.is_discarded() || !j.is_object()) return bad("snapshot is not JSON");
    Snapshot s;
    s.id = name;
    auto t = parse_time_ns(j.value("time", ""));
    if (!t.ok()) return bad("snapshot time '" + j.value("time", "") + "' is not RFC 3339");
    s.time_ns = *t;
    if (!digest_from_hex(j.value("tree", ""), s.tree)) return bad("snapshot has no tree ID");
    auto strings = [&](const char* key) {
      std::vector<std::string> v;
      if (auto it = j.find(key); it != j.end() && it->is_array())
        for (const auto& e : *it)
          if (e.is_string()) v.push_back(e.get<std::string>());
      return v;
    };
    s.paths = strings("paths");
    s.tags = strings("tags");
    s.hostname = j.value("hostname", "");
    s.username = j.value("username", "");
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Snapshot& a, const Snapshot& b) { return a.time_ns < b.time_ns; });
  return out;
}

std::uint32_t Repository::pack_number(const std::string& hex) {
  auto [it, fresh] = pack_numbers_.emplace(hex, static_cast<std::uint32_t>(packs_.size()));
  if (fresh) packs_.push_back(hex);
  return it->second;
}

Status Repository::add_index(const std::string& text, const std::string& file) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) { return make_error(ErrorKind::Corrupt, file + ": " + why); };
  if (j.is_discarded()) return bad("index is not JSON");
  const nlohmann::json* packs = &j;  // the legacy form is a top-level array of packs
  if (j.is_object()) {
    auto it = j.find("packs");
    if (it == j.end() || it->is_null()) return {};
    packs = &*it;
  }
  if (!packs->is_array()) return bad("index 'packs' is not a list");
  for (const auto& p : *packs) {
    if (!p.is_object() || !is_hex_id(p.value("id", ""))) return bad("index names a pack without a valid ID");
    const std::uint32_t pack = pack_number(p["id"].get<std::string>());
    auto blobs = p.find("blobs");
    if (blobs == p.end() || blobs->is_null()) continue;
    if (!blobs->is_array())
      return bad("index pack " + p["id"].get<std::string>() + ": 'blobs' is not a list");
    for (const auto& b : *blobs) {
      Digest id{};
      if (!b.is_object() || !digest_from_hex(b.value("id", ""), id))
        return bad("index names a blob without a valid ID");
      const std::string type = b.value("type", "");
      auto u32 = [&](const char* k, std::uint32_t& out) {
        auto it = b.find(k);
        if (it == b.end()) return true;
        if (!it->is_number_unsigned() || it->get<std::uint64_t>() > UINT32_MAX) return false;
        out = static_cast<std::uint32_t>(it->get<std::uint64_t>());
        return true;
      };
      BlobRef ref;
      ref.pack = pack;
      ref.tree = type == "tree";
      if ((type != "data" && type != "tree") || !b.contains("offset") || !b.contains("length") ||
          !u32("offset", ref.offset) || !u32("length", ref.length) ||
          !u32("uncompressed_length", ref.uncompressed_length) || ref.length < kEnvelopeOverhead)
        return bad("index entry for blob " + to_hex(id) + " is malformed");
      if (ref.uncompressed_length && version_ < 2)
        return bad("index entry for blob " + to_hex(id) + " is compressed in a format version 1 repository");
      blobs_.emplace(id, ref);  // a blob in several packs: any copy serves, the first is kept
    }
  }
  return {};
}

Status Repository::load_index() {
  if (indexed_) return {};
  auto names = list_objects(dir_ + "/index");
  if (!names.ok()) return names.error();
  for (const auto& name : *names) {
    const std::string path = dir_ + "/index/" + name;
    auto plain = read_unpacked(path);
    if (!plain.ok()) return plain.error();
    auto text = unpacked_json(std::move(*plain), version_);
    if (!text.ok()) return make_error(text.error().kind, path + ": " + text.error().message);
    RECALL_TRY(add_index(*text, path));
  }
  indexed_ = true;
  return {};
}

const BlobRef* Repository::find(const Digest& blob) const {
  auto it = blobs_.find(blob);
  return it == blobs_.end() ? nullptr : &it->second;
}

std::string Repository::pack_path(std::uint32_t pack) const {
  const std::string& id = packs_.at(pack);
  return dir_ + "/data/" + id.substr(0, 2) + "/" + id;
}

Result<std::vector<Node>> Repository::load_tree(const Digest& id) const {
  const BlobRef* ref = find(id);
  if (!ref) return make_error(ErrorKind::Corrupt, "tree " + to_hex(id) + " is in no index of " + dir_);
  const std::string path = pack_path(ref->pack);
  std::shared_ptr<const UniqueFd> pack;
  {
    std::lock_guard lk(*packs_mu_);
    if (auto fit = open_packs_.find(ref->pack); fit != open_packs_.end()) pack = fit->second;
  }
  if (!pack) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open " + path + " (holding tree " + to_hex(id) + ")", errno);
    pack = std::make_shared<const UniqueFd>(fd);
    std::lock_guard lk(*packs_mu_);
    if (open_packs_.size() >= 64) open_packs_.clear();
    open_packs_.emplace(ref->pack, pack);
  }
  std::vector<std::uint8_t> env(ref->length);
  std::size_t got = 0;
  while (got < env.size()) {
    ssize_t n =
        ::pread(pack->get(), env.data() + got, env.size() - got, static_cast<off_t>(ref->offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read " + path, errno);
    if (n == 0)
      return make_error(ErrorKind::Corrupt, path + ": truncated (tree " + to_hex(id) + " ends past the end)");
    got += static_cast<std::size_t>(n);
  }
  auto plain = decode_blob(key_, env, ref->uncompressed_length, id);
  if (!plain.ok())
    return make_error(ErrorKind::Corrupt, path + ": tree " + to_hex(id) + ": " + plain.error().message);
  auto nodes = parse_tree({reinterpret_cast<const char*>(plain->data()), plain->size()});
  if (!nodes.ok()) return make_error(ErrorKind::Corrupt, "tree " + to_hex(id) + ": " + nodes.error().message);
  return nodes;
}

}  // namespace recall::restic
