#include "tapebridge/chunk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tapebridge/volume_format.h"
#include "tapebridge/volume_io.h"

namespace recall::tape {
namespace fs = std::filesystem;

ChunkCache::Pin& ChunkCache::Pin::operator=(Pin&& o) noexcept {
  if (this != &o) {
    release();
    cache_ = o.cache_;
    sha_ = o.sha_;
    gen_ = o.gen_;
    o.cache_ = nullptr;
  }
  return *this;
}

void ChunkCache::Pin::release() {
  if (cache_) cache_->unpin(sha_, gen_);
  cache_ = nullptr;
}

std::size_t ChunkCache::DigestHash::operator()(const Digest& d) const {
  std::size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

ChunkCache::ChunkCache(std::string dir, std::uint64_t capacity_bytes)
    : dir_(std::move(dir)), capacity_(capacity_bytes) {}

std::string ChunkCache::path_of(const Digest& sha) const {
  const std::string hex = to_hex(sha);
  return dir_ + "/" + hex.substr(0, 2) + "/" + hex + ".blk";
}

Status ChunkCache::open() {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create " + dir_, errno);
  std::vector<std::pair<fs::file_time_type, std::pair<Digest, std::uint64_t>>> found;
  std::error_code ec;
  for (const auto& sub : fs::directory_iterator(dir_, ec)) {
    if (!sub.is_directory(ec)) {
      fs::remove(sub.path(), ec);  // a temporary file of a write that did not finish
      continue;
    }
    for (const auto& f : fs::directory_iterator(sub.path(), ec)) {
      Digest sha{};
      const std::string name = f.path().filename().string();
      if (name.size() != 68 || !name.ends_with(".blk") || !digest_from_hex(name.substr(0, 64), sha)) {
        fs::remove(f.path(), ec);
        continue;
      }
      found.push_back({f.last_write_time(ec), {sha, static_cast<std::uint64_t>(f.file_size(ec))}});
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::lock_guard lk(mu_);
  for (const auto& [when, item] : found) {
    lru_.push_front(item.first);
    entries_[item.first] = Entry{item.second, 0, lru_.begin(), next_gen_++};
    bytes_ += item.second;
  }
  make_room(0);
  return {};
}

Status ChunkCache::check_disk_room(std::uint64_t bytes) const {
  struct statvfs v {};
  if (::statvfs(dir_.c_str(), &v) != 0) return {};  // cannot tell: let the write fail if it must
  const std::uint64_t total = static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize;
  const std::uint64_t free = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  if (free >= bytes + total / 20) return {};
  return make_error(ErrorKind::Io,
                    "not enough free space in " + dir_ + " to stage a chunk (keeping 5% free)");
}

Result<ChunkCache::Pin> ChunkCache::put(const Digest& sha, std::span<const std::uint8_t> block) {
  {
    std::lock_guard lk(mu_);
    if (auto it = entries_.find(sha); it != entries_.end()) {
      it->second.pins++;
      touch(it->second);
      return Pin(this, sha, it->second.gen);
    }
  }
  RECALL_TRY(check_disk_room(block.size()));
  const std::string path = path_of(sha);
  const std::string sub = path.substr(0, path.rfind('/'));
  if (::mkdir(sub.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create " + sub, errno);
  // Written under a temporary name and renamed, so an entry is whole or absent.
  std::string tmp = dir_ + "/.put-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return io_error("cannot create a file in " + dir_, errno);
  UniqueFd owned(fd);
  Status st = pwrite_full(fd, block.data(), block.size(), 0, tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = io_error("rename " + tmp, errno);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st.error();
  }
  std::lock_guard lk(mu_);
  counters_.puts++;
  if (auto it = entries_.find(sha); it != entries_.end()) {  // another writer got there first
    it->second.pins++;
    touch(it->second);
    return Pin(this, sha, it->second.gen);
  }
  make_room(block.size());
  lru_.push_front(sha);
  const std::uint64_t gen = next_gen_++;
  entries_[sha] = Entry{block.size(), 1, lru_.begin(), gen};
  bytes_ += block.size();
  return Pin(this, sha, gen);
}

std::optional<ChunkCache::Pin> ChunkCache::pin(const Digest& sha) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(sha);
  if (it == entries_.end()) {
    counters_.misses++;
    return std::nullopt;
  }
  counters_.hits++;
  it->second.pins++;
  touch(it->second);
  return Pin(this, sha, it->second.gen);
}

ChunkCache::Pin ChunkCache::share(const Pin& pin) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(pin.sha());
  if (!pin.valid() || it == entries_.end() || it->second.gen != pin.gen_) return Pin();
  it->second.pins++;
  return Pin(this, pin.sha(), pin.gen_);
}

bool ChunkCache::contains(const Digest& sha) const {
  std::lock_guard lk(mu_);
  return entries_.count(sha) != 0;
}

Result<std::vector<std::uint8_t>> ChunkCache::read(const Pin& pin) {
  if (!pin.valid()) return make_error(ErrorKind::Internal, "reading the staging cache without a pin");
  const std::string path = path_of(pin.sha());
  auto fail = [&](const std::string& reason) -> Error {
    std::lock_guard lk(mu_);
    counters_.corrupt++;
    drop(pin.sha());
    return make_error(ErrorKind::Corrupt,
                      "staged chunk " + path + ": " + reason + " (dropped; it will be staged again)");
  };
  auto fd = open_volume_file(path, O_RDONLY);
  if (!fd.ok()) return fail(fd.error().message);
  auto size = file_size(fd->get(), path);
  if (!size.ok()) return size.error();
  if (*size < kHeaderSize || *size > kHeaderSize + kMaxPlainBytes)
    return fail("impossible size " + std::to_string(*size));
  std::vector<std::uint8_t> block(*size);
  auto got = pread_full(fd->get(), block.data(), block.size(), 0, path);
  if (!got.ok()) return got.error();
  if (*got != block.size()) return fail("file shrank while reading");
  auto h = decode_header(block.data());
  if (!h.ok()) return fail(h.error().message);
  auto plain = decode_chunk_block(block, h->volser, pin.sha());
  if (!plain.ok()) return fail(plain.error().message);
  return plain;
}

ChunkCache::Stats ChunkCache::stats() const {
  std::lock_guard lk(mu_);
  Stats s = counters_;
  s.entries = entries_.size();
  s.bytes = bytes_;
  s.capacity = capacity_;
  for (const auto& [sha, e] : entries_) s.pinned += e.pins > 0;
  return s;
}

void ChunkCache::unpin(const Digest& sha, std::uint64_t gen) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(sha);
  if (it == entries_.end() || it->second.gen != gen) return;  // dropped as damaged meanwhile
  if (it->second.pins > 0) it->second.pins--;
  if (bytes_ > capacity_) make_room(0);  // pinned entries may have pushed it past its bound
}

void ChunkCache::touch(Entry& e) { lru_.splice(lru_.begin(), lru_, e.lru); }

void ChunkCache::make_room(std::uint64_t incoming) {
  auto it = lru_.end();
  while (bytes_ + incoming > capacity_ && it != lru_.begin()) {
    --it;
    auto e = entries_.find(*it);
    if (e->second.pins > 0) continue;
    Digest victim = *it;
    it = std::next(it);  // drop() erases the element `it` pointed at; keep the one after it
    drop(victim);
    counters_.evictions++;
  }
}

void ChunkCache::drop(const Digest& sha) {
  auto it = entries_.find(sha);
  if (it == entries_.end()) return;
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
  ::unlink(path_of(sha).c_str());
}

}  // namespace recall::tape
