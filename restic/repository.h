// A restic repository opened read-only with its password (formats.md §1.8): the master key from
// the first key file the password opens, the config, the snapshots, the index (which pack holds
// each blob, where), and tree blobs on demand. Data blobs are not read here: Recall registers
// their packs as volumes and decodes them when a file is read (restic/blob.h).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "restic/crypto.h"
#include "restic/tree.h"

namespace recall::restic {

struct Snapshot {
  std::string id;  // 64 hex digits (the file's name)
  std::int64_t time_ns = 0;
  Digest tree{};
  std::vector<std::string> paths, tags;
  std::string hostname, username;
};

// Where one blob is stored: `length` envelope bytes at `offset` of pack `pack`.
struct BlobRef {
  std::uint32_t pack = 0;  // index into Repository::packs()
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t uncompressed_length = 0;  // non-zero: the envelope holds a zstd frame (v2)
  bool tree = false;
  // The plain (uncompressed) size: what the blob contributes to a file.
  std::uint32_t plain_size() const {
    return uncompressed_length ? uncompressed_length : length - kEnvelopeOverhead;
  }
};

struct DigestHash {
  std::size_t operator()(const Digest& d) const {
    std::size_t h;
    static_assert(sizeof h <= sizeof(Digest));
    __builtin_memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

class Repository {
 public:
  // Denied "wrong password" when no key file opens with it; Invalid when `dir` is not a
  // repository (no config or keys), or of a format version other than 1 and 2.
  static Result<Repository> open(const std::string& dir, std::string_view password);
  Repository(Repository&&) = default;

  const std::string& dir() const { return dir_; }
  int version() const { return version_; }
  const std::string& id() const { return id_; }  // the config's repository ID
  const Key& master_key() const { return key_; }

  // Every snapshot, oldest first (listed before the index is read: restic writes packs, then
  // the index, then the snapshot, so every listed snapshot's blobs are indexed).
  Result<std::vector<Snapshot>> snapshots() const;
  // Reads every index file. Later calls do nothing.
  Status load_index();
  const BlobRef* find(const Digest& blob) const;
  std::size_t blob_count() const { return blobs_.size(); }
  const std::vector<std::string>& packs() const { return packs_; }  // pack IDs, hex
  std::string pack_path(std::uint32_t pack) const;

  // A tree blob's nodes, checked against its ID. Corrupt naming the blob and the pack. Safe to
  // call from several threads at once (after load_index).
  Result<std::vector<Node>> load_tree(const Digest& id) const;

 private:
  Repository() = default;
  Status add_index(const std::string& json, const std::string& file);
  std::uint32_t pack_number(const std::string& hex);
  Result<std::vector<std::uint8_t>> read_unpacked(const std::string& path) const;

  std::string dir_, id_;
  int version_ = 0;
  Key key_;
  bool indexed_ = false;
  std::unordered_map<Digest, BlobRef, DigestHash> blobs_;
  std::vector<std::string> packs_;
  std::unordered_map<std::string, std::uint32_t> pack_numbers_;
  // Tree packs (few): kept open. Shared so that a thread still reading one survives its eviction.
  mutable std::unique_ptr<std::mutex> packs_mu_ = std::make_unique<std::mutex>();
  mutable std::unordered_map<std::uint32_t, std::shared_ptr<const UniqueFd>> open_packs_;
};

// 64 lowercase hex digits: the name of every object file in a repository.
bool is_hex_id(std::string_view s);

}  // namespace recall::restic
