#include "fusefs/node_table.h"

namespace recall::fs {

void NodeTable::remember(std::uint64_t ino, const Inode& proto) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = inodes_.try_emplace(ino, proto);
  if (inserted) {
    it->second.nlookup = 0;
  } else if (it->second.point_id == 0 && proto.point_id != 0) {
    // A version first met in @versions carries what that caller could see of it; met in a
    // point, it carries what the kernel must judge everyone by.
    auto count = it->second.nlookup;
    it->second = proto;
    it->second.nlookup = count;
  }
  it->second.nlookup++;
}

std::optional<Inode> NodeTable::get(std::uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return std::nullopt;
  return it->second;
}

std::optional<Inode> NodeTable::forget(std::uint64_t ino, std::uint64_t n) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return std::nullopt;
  if (it->second.nlookup > n) {
    it->second.nlookup -= n;
    return std::nullopt;
  }
  Inode gone = std::move(it->second);
  inodes_.erase(it);
  return gone;
}

std::size_t NodeTable::size() {
  std::lock_guard lock(mu_);
  return inodes_.size();
}

std::size_t approx_bytes(const fswire::Listing& l) {
  std::size_t n = sizeof(l) + l.self.name.size();
  for (const auto& e : l.children) {
    n += sizeof(e) + e.name.capacity() + e.link_target.capacity();
    for (const auto& [k, v] : e.xattrs) n += k.size() + v.size() + 64;
  }
  return n;
}

std::shared_ptr<const fswire::Listing> ListingCache::get(std::int64_t point, std::int64_t node) {
  std::lock_guard lock(mu_);
  auto it = slots_.find({point, node});
  if (it == slots_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.listing;
}

void ListingCache::put(std::int64_t point, std::int64_t node, std::shared_ptr<const fswire::Listing> l) {
  std::size_t size = approx_bytes(*l);
  std::lock_guard lock(mu_);
  Key key{point, node};
  if (auto it = slots_.find(key); it != slots_.end()) return;  // points never change: keep the first
  lru_.push_front(key);
  slots_.emplace(key, Slot{std::move(l), size, lru_.begin()});
  bytes_ += size;
  while (bytes_ > max_bytes_ && lru_.size() > 1) {
    auto victim = slots_.find(lru_.back());
    bytes_ -= victim->second.bytes;
    slots_.erase(victim);
    lru_.pop_back();
  }
}

std::size_t ListingCache::bytes() {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace recall::fs
