// Inode numbers of the mount, derived from catalog ids rather than handed out in order, so
// the same file has the same number for the life of the mount (and across remounts of the
// same catalog) without a table that grows with every name ever looked up.
//
// The top 4 bits say what the rest means. A version that is the same in several points is
// one inode (one page cache, one st_ino), which is right: it is the same file. Directories
// are per point (a directory has one parent) and hard links per point (all names of a file
// share the inode of the group's lowest node).
#pragma once

#include <cstdint>
#include <optional>

namespace recall::fs {

enum class Kind : std::uint8_t {
  Special = 0,     // the fixed directories below
  Host = 1,        // MOUNT/HOST: host id
  Latest = 2,      // MOUNT/HOST/latest: host id
  Dir = 3,         // a directory inside a point: point id, node id
  Version = 4,     // a non-directory version: version id
  Linked = 5,      // a hard-linked file inside a point: point id, group node id
  History = 6,     // a directory of MOUNT/@versions/HOST/...: node id
  SearchDir = 7,   // MOUNT/@search/QUERY: query number
  SearchLink = 8,  // an entry of a search: entry number
};

inline constexpr std::uint64_t kRootIno = 1;  // FUSE_ROOT_ID
inline constexpr std::uint64_t kVersionsIno = 2;
inline constexpr std::uint64_t kSearchIno = 3;

inline constexpr int kKindShift = 60;
inline constexpr int kNodeBits = 36;  // 68 billion paths per catalog
inline constexpr std::uint64_t kNodeMask = (std::uint64_t{1} << kNodeBits) - 1;
inline constexpr std::uint64_t kPointMax = std::uint64_t{1} << (kKindShift - kNodeBits);  // 16M points
inline constexpr std::uint64_t kIdMask = (std::uint64_t{1} << kKindShift) - 1;

inline Kind kind_of(std::uint64_t ino) { return static_cast<Kind>(ino >> kKindShift); }
inline std::uint64_t id_of(std::uint64_t ino) { return ino & kIdMask; }

inline std::optional<std::uint64_t> make_ino(Kind k, std::uint64_t id) {
  if (id == 0 || id > kIdMask) return std::nullopt;
  return (static_cast<std::uint64_t>(k) << kKindShift) | id;
}
inline std::optional<std::uint64_t> make_ino(Kind k, std::uint64_t point, std::uint64_t node) {
  if (point == 0 || point >= kPointMax || node == 0 || node > kNodeMask) return std::nullopt;
  return make_ino(k, (point << kNodeBits) | node);
}
inline std::uint64_t point_of(std::uint64_t ino) { return id_of(ino) >> kNodeBits; }
inline std::uint64_t node_of(std::uint64_t ino) { return id_of(ino) & kNodeMask; }

}  // namespace recall::fs
