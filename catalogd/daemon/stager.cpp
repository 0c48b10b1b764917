#include "catalogd/daemon/stager.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace recall::daemon {
namespace {

// How often a caller waiting for another thread's staging checks whether it was cancelled.
constexpr auto kWaitPoll = std::chrono::milliseconds(50);

// A descriptor of its own for the file behind `fd`: read-only, so a client cannot change a copy
// others are served, and with its own offset.
Result<UniqueFd> reopen_read_only(int fd) {
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  int r = ::open(self.c_str(), O_RDONLY | O_CLOEXEC);
  if (r >= 0) return UniqueFd(r);
  if (errno != ENOENT) return io_error("cannot reopen a staged file read-only", errno);
  // No /proc: a duplicate shares the offset and write access, which clients reading with pread
  // tolerate.
  r = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (r < 0) return io_error("cannot duplicate a staged file's descriptor", errno);
  return UniqueFd(r);
}

Error cancelled_error(std::int64_t content_id) {
  return make_error(ErrorKind::Cancelled, "staging content " + std::to_string(content_id) + " was cancelled");
}

}  // namespace

Stager::Stager(std::string stage_dir, std::uint64_t cache_bytes, ContentSource& source,
               StreamCounters& counters, std::size_t max_files)
    : dir_(std::move(stage_dir)),
      cache_bytes_(cache_bytes),
      max_files_(max_files),
      source_(source),
      counters_(counters) {}

Result<UniqueFd> Stager::stage(const store::ContentRow& content,
                               const std::vector<store::ChunkLocation>& chunks, const ReadRequest& request) {
  std::shared_ptr<Entry> e;
  enum class Role { Run, Wait, Hit } role = Role::Run;
  {
    std::lock_guard lk(mu_);
    auto it = entries_.find(content.id);
    if (it == entries_.end()) {
      e = std::make_shared<Entry>();
      entries_.emplace(content.id, e);
    } else if (it->second->state == Entry::State::Ready) {
      e = it->second;
      role = Role::Hit;
      touch(e);
      counters_.stage_hits++;
    } else {
      e = it->second;
      role = Role::Wait;
      e->interest++;
    }
  }
  // A Ready entry's file never changes, and `e` keeps it open after an eviction.
  if (role == Role::Hit) return reopen_read_only(e->file.get());
  if (role == Role::Wait) return wait_for(e, content.id, request.cancelled);
  return run_staging(e, content, chunks, request);
}

Result<UniqueFd> Stager::wait_for(const std::shared_ptr<Entry>& e, std::int64_t content_id,
                                  const std::function<bool()>& cancelled) {
  std::unique_lock lk(mu_);
  for (;;) {
    if (e->state == Entry::State::Ready) {
      counters_.stage_hits++;
      lk.unlock();
      return reopen_read_only(e->file.get());
    }
    if (e->state == Entry::State::Failed) return e->error;
    changed_.wait_for(lk, kWaitPoll);
    if (e->state != Entry::State::Staging || !cancelled) continue;
    lk.unlock();
    bool gone = cancelled();  // may block briefly (poll); not under the lock
    lk.lock();
    if (gone && e->state == Entry::State::Staging) {
      e->interest--;  // the runner withdraws the work once this reaches 0
      return cancelled_error(content_id);
    }
  }
}

// Copies handed out but no longer kept live on until their readers close them, so any local
// user could fill the disk the catalog lives on. A staging must leave a reserve free.
Status Stager::check_room(int fd, std::uint64_t size) const {
  struct statvfs v {};
  if (::fstatvfs(fd, &v) != 0) return {};  // cannot tell: let the write fail if it must
  const std::uint64_t total = static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize;
  const std::uint64_t free = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  const std::uint64_t reserve = std::max<std::uint64_t>(total / 20, 256ull << 20);  // 5%, at least 256 MiB
  if (free >= size + reserve) return {};
  return make_error(ErrorKind::Io, "not enough free space in " + dir_ + " to stage " + std::to_string(size) +
                                       " bytes (keeping " + std::to_string(reserve >> 20) + " MiB free)");
}

Result<UniqueFd> Stager::create_file() const {
  // O_EXCL: the anonymous file can never be linked into a directory, not even by a client.
  int fd = ::open(dir_.c_str(), O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return io_error("cannot create a staging file in " + dir_, errno);
  // The kernel or filesystem has no O_TMPFILE: a named file, unlinked at once.
  std::string name = dir_ + "/staging-XXXXXX";
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return io_error("cannot create a staging file in " + dir_, errno);
  ::unlink(name.c_str());
  return UniqueFd(fd);
}

Result<UniqueFd> Stager::run_staging(const std::shared_ptr<Entry>& e, const store::ContentRow& content,
                                     const std::vector<store::ChunkLocation>& chunks,
                                     const ReadRequest& request) {
  const auto& cancelled = request.cancelled;
  const std::int64_t id = content.id;
  bool caller_gone = false;
  // Between chunks: our own caller's cancellation only withdraws its interest; the work stops
  // when nobody is left to want it.
  auto nobody_waits = [&]() -> bool {
    bool gone_now = !caller_gone && cancelled && cancelled();
    std::lock_guard lk(mu_);
    if (gone_now) {
      caller_gone = true;
      e->interest--;
    }
    if (e->interest > 0) return false;
    forget(id, e);  // a caller arriving from now on starts a staging of its own
    return true;
  };

  Result<UniqueFd> file = Error{ErrorKind::Internal, "no staging file"};
  Status s;
  // Whatever happens, the entry must leave Staging below, or its waiters would wait forever.
  try {
    file = create_file();
    if (!file.ok()) {
      s = file.error();
    } else if (auto room = check_room(file->get(), content.size); !room.ok()) {
      s = room.error();
    } else {
      int fd = file->get();
      auto write_all = [&](std::span<const std::uint8_t> data) -> Status {
        while (!data.empty()) {
          ssize_t n = ::write(fd, data.data(), data.size());
          if (n < 0 && errno == EINTR) continue;
          if (n < 0)
            return io_error("cannot write the staged copy of content " + std::to_string(id) + " in " + dir_,
                            errno);
          data = data.subspan(static_cast<std::size_t>(n));
        }
        return {};
      };
      ReadRequest mine = request;
      mine.cancelled = nobody_waits;
      s = source_.read(content, chunks, mine, write_all);
    }
  } catch (const std::exception& ex) {
    s = Error{ErrorKind::Internal, "staging content " + std::to_string(id) + " failed: " + ex.what()};
  }

  std::vector<std::shared_ptr<Entry>> evicted;  // closed after unlocking: freeing a big file takes time
  std::unique_lock lk(mu_);
  if (!s.ok()) {
    forget(id, e);
    e->state = Entry::State::Failed;
    e->error = s.error();
    changed_.notify_all();
    return s.error();
  }
  e->file = std::move(*file);
  e->size = content.size;
  e->state = Entry::State::Ready;
  counters_.files_staged++;
  counters_.bytes_staged += content.size;
  if (content.size <= cache_bytes_ && max_files_ > 0) {
    keep(id, e, evicted);
  } else {
    forget(id, e);  // served, not kept: it would push out everything else
  }
  changed_.notify_all();
  lk.unlock();
  if (caller_gone) return cancelled_error(id);
  return reopen_read_only(e->file.get());
}

Result<std::optional<UniqueFd>> Stager::cached(std::int64_t content_id) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lk(mu_);
    auto it = entries_.find(content_id);
    if (it == entries_.end() || it->second->state != Entry::State::Ready) return std::optional<UniqueFd>();
    e = it->second;
    touch(e);
    counters_.stage_hits++;
  }
  auto fd = reopen_read_only(e->file.get());
  if (!fd.ok()) return fd.error();
  return std::optional<UniqueFd>(std::move(*fd));
}

Stager::Stats Stager::stats() const {
  std::lock_guard lk(mu_);
  return Stats{lru_.size(), kept_bytes_, entries_.size() - lru_.size()};
}

void Stager::forget(std::int64_t content_id, const std::shared_ptr<Entry>& e) {
  if (e->kept) {
    lru_.erase(e->lru_pos);
    kept_bytes_ -= e->size;
    e->kept = false;
  }
  auto it = entries_.find(content_id);
  if (it != entries_.end() && it->second == e) entries_.erase(it);  // `e` is the caller's own reference
}

void Stager::keep(std::int64_t content_id, const std::shared_ptr<Entry>& e,
                  std::vector<std::shared_ptr<Entry>>& evicted) {
  e->kept = true;
  lru_.push_front(content_id);
  e->lru_pos = lru_.begin();
  kept_bytes_ += e->size;
  // `e` is at the front and fits on its own, so it is never the one evicted.
  while (kept_bytes_ > cache_bytes_ || lru_.size() > max_files_) {
    std::int64_t oldest = lru_.back();
    evicted.push_back(entries_.at(oldest));
    forget(oldest, evicted.back());
  }
}

void Stager::touch(const std::shared_ptr<Entry>& e) {
  if (e->kept) lru_.splice(lru_.begin(), lru_, e->lru_pos);
}

}  // namespace recall::daemon
