#include "importers/file_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace recall::import {

std::size_t HashBatch::bytes_held() const {
  std::size_t n = 0;
  for (const auto& c : chunks) n += c.payload ? c.payload->payload.size() : 0;
  return n + chunks.size() * sizeof(PreparedChunk);
}

HashPool::HashPool(int threads, ChunkerParams params, int zstd_level, std::function<ChunkKnown()> make_known,
                   ImportProgress& progress, const std::atomic<bool>& cancel)
    : chunker_(params), level_(zstd_level), progress_(progress), cancel_(cancel) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, k = make_known()]() mutable { work(std::move(k)); });
}

HashPool::~HashPool() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  jobs_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void HashPool::submit(HashJob job) {
  std::lock_guard lk(mu_);
  jobs_.push_back(std::move(job));
  ++in_flight_;
  jobs_cv_.notify_one();
}

std::size_t HashPool::outstanding() const {
  std::lock_guard lk(mu_);
  return in_flight_;
}

bool HashPool::next(HashBatch& out, bool wait) {
  std::unique_lock lk(mu_);
  if (wait) results_cv_.wait(lk, [&] { return !results_.empty() || in_flight_ == 0; });
  if (results_.empty()) return false;
  out = std::move(results_.front());
  results_.pop_front();
  results_bytes_ -= out.bytes_held();
  if (out.done) --in_flight_;
  space_cv_.notify_all();
  return true;
}

void HashPool::emit(HashBatch&& b) {
  std::unique_lock lk(mu_);
  std::size_t n = b.bytes_held();
  // A single batch larger than the limit is let through alone, so nothing can deadlock.
  space_cv_.wait(lk, [&] { return stop_ || results_bytes_ == 0 || results_bytes_ + n <= kMaxQueuedBytes; });
  results_bytes_ += n;
  results_.push_back(std::move(b));
  results_cv_.notify_one();
}

void HashPool::work(ChunkKnown known) {
  for (;;) {
    HashJob job;
    {
      std::unique_lock lk(mu_);
      jobs_cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    hash_file(job, known);
  }
}

namespace {
std::int64_t ns(const struct timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }
}  // namespace

void HashPool::hash_file(const HashJob& job, const ChunkKnown& known) {
  HashBatch batch;
  batch.job = job.id;
  auto fail = [&](Error e) {
    batch.chunks.clear();
    batch.done = true;
    batch.error = std::move(e);
    emit(std::move(batch));
  };
  // O_NOATIME keeps a backup from touching every file's atime; only the owner or root may
  // ask for it, so fall back quietly.
  int fd = ::open(job.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(job.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(io_error("cannot open", errno));
  struct stat before {};
  if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode) || before.st_ino != job.ino || before.st_dev != job.dev) {
    ::close(fd);
    return fail(make_error(ErrorKind::Conflict, "replaced during the backup"));
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const std::size_t max = chunker_.params().max;
  // One read buffer per worker thread for its whole life: allocating (and zeroing) a fresh
  // MiB per file cost more than hashing the typical small file.
  thread_local std::vector<std::uint8_t> buf;
  buf.resize(std::max<std::size_t>(4 * max, 1 << 20));
  std::size_t have = 0;
  bool eof = false;
  // Most files are one chunk, whose SHA-256 is then the file's: the whole-file hash is only
  // computed once a second chunk shows up (the first is kept aside until then).
  Sha256 content;
  std::size_t chunk_count = 0;
  std::vector<std::uint8_t> first_chunk;
  std::uint64_t total = 0;
  std::size_t batch_bytes = 0;
  while (!eof || have > 0) {
    if (cancel_.load(std::memory_order_relaxed)) {
      ::close(fd);
      return fail(make_error(ErrorKind::Cancelled, "cancelled"));
    }
    while (!eof && have < max) {
      ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return fail(io_error("read failed", err));
      }
      if (n == 0) eof = true;
      have += static_cast<std::size_t>(n);
      progress_.bytes_read += static_cast<std::uint64_t>(n);
    }
    std::size_t off = 0;
    // Cut every chunk that has a full window behind it (or the rest at end of file).
    while (have - off >= max || (eof && off < have)) {
      std::span<const std::uint8_t> rest(buf.data() + off, have - off);
      std::size_t len = chunker_.cut(rest);
      auto piece = rest.first(len);
      if (++chunk_count == 1) {
        first_chunk.assign(piece.begin(), piece.end());
      } else {
        if (chunk_count == 2) {
          content.update(first_chunk);
          first_chunk.clear();
        }
        content.update(piece);
      }
      PreparedChunk c;
      c.sha = sha256(piece);
      c.size = static_cast<std::uint32_t>(len);
      if (!known(c.sha)) c.payload = tape::compress_chunk(piece, level_);
      batch_bytes += c.payload ? c.payload->payload.size() : 0;
      batch.chunks.push_back(std::move(c));
      off += len;
      total += len;
    }
    std::memmove(buf.data(), buf.data() + off, have - off);
    have -= off;
    if (batch_bytes > (16u << 20)) {  // large files go to the writer piece by piece
      HashBatch part;
      part.job = job.id;
      part.chunks = std::move(batch.chunks);
      batch.chunks.clear();
      batch_bytes = 0;
      emit(std::move(part));
    }
  }
  struct stat after {};
  fstat(fd, &after);
  ::close(fd);
  batch.done = true;
  if (chunk_count > 1)
    batch.content = content.finish();
  else if (chunk_count == 1)
    batch.content = batch.chunks.empty() ? sha256(first_chunk) : batch.chunks.front().sha;
  else
    batch.content = sha256(std::span<const std::uint8_t>());
  batch.size = total;
  batch.mtime_ns = ns(after.st_mtim);
  batch.ctime_ns = ns(after.st_ctim);
  batch.changed_while_reading = ns(after.st_mtim) != ns(before.st_mtim) ||
                                static_cast<std::uint64_t>(after.st_size) != total;
  progress_.files_read++;
  emit(std::move(batch));
}

}  // namespace recall::import
