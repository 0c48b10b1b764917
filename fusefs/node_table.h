// What the mount knows about the inodes the kernel holds, and the directory listings it has
// fetched. Both are bounded: inodes live until the kernel forgets them; listings are kept in
// an LRU by size (points never change, so a kept listing never goes stale).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "catalogd/http/fs_wire.h"
#include "fusefs/inode_id.h"

namespace recall::fs {

struct Inode {
  std::int64_t host_id = 0;
  std::int64_t point_id = 0;                   // Dir, Linked (and a Version reached through a point)
  std::string host;                            // History: the host's name (its API is by name)
  std::shared_ptr<const fswire::Entry> entry;  // attributes; null for synthetic directories
  std::string target;                          // SearchLink: where it points
  std::uint64_t nlookup = 0;
};

class NodeTable {
 public:
  // Adds one kernel reference to `ino`, recording `proto` if the inode is new.
  void remember(std::uint64_t ino, const Inode& proto);
  std::optional<Inode> get(std::uint64_t ino);
  // Drops `n` references; returns the inode when that was the last of them.
  std::optional<Inode> forget(std::uint64_t ino, std::uint64_t n);
  std::size_t size();

 private:
  std::mutex mu_;
  std::unordered_map<std::uint64_t, Inode> inodes_;
};

class ListingCache {
 public:
  explicit ListingCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  std::shared_ptr<const fswire::Listing> get(std::int64_t point, std::int64_t node);
  void put(std::int64_t point, std::int64_t node, std::shared_ptr<const fswire::Listing> l);
  std::size_t bytes();

 private:
  using Key = std::pair<std::int64_t, std::int64_t>;
  struct Slot {
    std::shared_ptr<const fswire::Listing> listing;
    std::size_t bytes;
    std::list<Key>::iterator lru;
  };
  std::mutex mu_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::map<Key, Slot> slots_;
  std::list<Key> lru_;  // most recently used first
};

// Rough heap size of a listing, for the cache's budget.
std::size_t approx_bytes(const fswire::Listing& l);

}  // namespace recall::fs
