#include "importers/in_place_hasher.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace recall::import {

namespace {

constexpr std::size_t kReadBytes = 4u << 20;  // one pread: a worker's buffer is this plus a chunk

}  // namespace

// Reads [begin, end) of the file forward through one buffer; a view may start anywhere at or
// after the last one.
class InPlaceHasher::Reader {
 public:
  Reader(int fd, const std::string& name, std::uint64_t end, std::vector<std::uint8_t>& buf,
         ImportProgress& progress)
      : fd_(fd), name_(name), end_(end), buf_(buf), progress_(progress) {}

  // Up to `want` bytes from `pos` (fewer only at the segment's end).
  Result<std::span<const std::uint8_t>> view(std::uint64_t pos, std::size_t want) {
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, end_ - pos));
    if (pos < off_ || pos + want > off_ + len_) RECALL_TRY(refill(pos, want));
    return std::span<const std::uint8_t>(buf_.data() + (pos - off_), want);
  }

 private:
  Status refill(std::uint64_t pos, std::size_t want) {
    std::size_t keep = 0;
    if (pos >= off_ && pos < off_ + len_) {  // bytes already here move to the front
      keep = static_cast<std::size_t>(off_ + len_ - pos);
      std::memmove(buf_.data(), buf_.data() + (pos - off_), keep);
    }
    off_ = pos;
    len_ = keep;
    const std::size_t target =
        std::max(want, static_cast<std::size_t>(std::min<std::uint64_t>(buf_.size(), end_ - pos)));
    while (len_ < target) {
      ssize_t n = ::pread(fd_, buf_.data() + len_, target - len_, static_cast<off_t>(off_ + len_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read " + name_, errno);
      if (n == 0)
        return make_error(ErrorKind::Invalid, name_ + ": the archive ends at byte " +
                                                  std::to_string(off_ + len_) + ", before the " +
                                                  std::to_string(end_) +
                                                  " bytes its headers describe (truncated?)");
      len_ += static_cast<std::size_t>(n);
      progress_.bytes_read += static_cast<std::uint64_t>(n);
    }
    return {};
  }

  const int fd_;
  const std::string& name_;
  const std::uint64_t end_;
  std::vector<std::uint8_t>& buf_;
  ImportProgress& progress_;
  std::uint64_t off_ = 0;
  std::size_t len_ = 0;
};

InPlaceHasher::InPlaceHasher(int fd, std::string name, ChunkerParams params, int threads,
                             ImportProgress& progress, const std::atomic<bool>& cancel)
    : fd_(fd), name_(std::move(name)), chunker_(params), progress_(progress), cancel_(cancel) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { work(); });
}

InPlaceHasher::~InPlaceHasher() {
  abandon_ = true;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  jobs_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void InPlaceHasher::add(std::size_t index, std::uint64_t offset, std::uint64_t size) {
  open_.members.push_back({index, offset, size});
  if (offset + size - open_.begin >= kSegmentBytes) submit_open_segment(offset + size);
}

void InPlaceHasher::finish(std::uint64_t file_size) {
  // Members that claim more bytes than the file has end inside this last segment: its read
  // comes up short and says so.
  std::uint64_t end = std::max(file_size, open_.begin);
  if (!open_.members.empty()) end = std::max(end, open_.members.back().offset + open_.members.back().size);
  submit_open_segment(end);
}

void InPlaceHasher::submit_open_segment(std::uint64_t end) {
  open_.end = end;
  open_.seq = next_seq_++;
  Job next{0, end, end, {}};
  {
    std::lock_guard lk(mu_);
    digests_.emplace_back();
    jobs_.push_back(std::move(open_));
    ++in_flight_;
  }
  jobs_cv_.notify_one();
  open_ = std::move(next);
}

std::size_t InPlaceHasher::outstanding() const {
  std::lock_guard lk(mu_);
  return in_flight_;
}

bool InPlaceHasher::next(HashedSegment& out, bool wait) {
  std::unique_lock lk(mu_);
  if (wait) results_cv_.wait(lk, [&] { return !results_.empty() || in_flight_ == 0; });
  if (results_.empty()) return false;
  out = std::move(results_.front());
  results_.pop_front();
  --in_flight_;
  return true;
}

Digest InPlaceHasher::identity() {
  Sha256 id;
  id.update(std::string_view("recall tar in place v1"));
  std::lock_guard lk(mu_);
  for (const auto& d : digests_)
    if (d) id.update({d->data(), d->size()});
  return id.finish();
}

void InPlaceHasher::work() {
  std::vector<std::uint8_t> buf(kReadBytes + chunker_.params().max);
  for (;;) {
    Job job;
    {
      std::unique_lock lk(mu_);
      jobs_cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Digest digest{};
    HashedSegment seg = hash_segment(job, digest, buf);
    {
      std::lock_guard lk(mu_);
      if (!seg.error) digests_[job.seq] = digest;
      results_.push_back(std::move(seg));
    }
    results_cv_.notify_all();
  }
}

HashedSegment InPlaceHasher::hash_segment(const Job& job, Digest& digest, std::vector<std::uint8_t>& buf) {
  HashedSegment out;
  Reader in(fd_, name_, job.end, buf, progress_);
  Sha256 seg, whole;
  const std::size_t max = chunker_.params().max;
  // Bytes outside members' data go into the segment's digest as they are.
  auto raw = [&](std::uint64_t from, std::uint64_t to) -> Status {
    while (from < to) {
      auto v = in.view(from, static_cast<std::size_t>(std::min<std::uint64_t>(to - from, kReadBytes)));
      if (!v.ok()) return v.error();
      seg.update(*v);
      from += v->size();
    }
    return {};
  };
  auto member = [&](const Span& m) -> Status {
    HashedMember h;
    h.index = m.index;
    h.size = m.size;
    bool whole_open = false;
    const std::uint64_t end = m.offset + m.size;
    for (std::uint64_t pos = m.offset; pos < end;) {
      if (cancel_ || abandon_) return make_error(ErrorKind::Cancelled, "import cancelled");
      auto v = in.view(pos, static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, max)));
      if (!v.ok()) return v.error();
      const std::size_t n = chunker_.cut(*v);
      auto bytes = v->first(n);
      InPlaceChunk c{sha256(bytes), pos, static_cast<std::uint32_t>(n)};
      // A member of one chunk is hashed once: its content hash is the chunk's.
      if (!whole_open && n < m.size) whole_open = true;
      if (whole_open) whole.update(bytes);
      seg.update({c.sha.data(), c.sha.size()});
      h.chunks.push_back(c);
      pos += n;
    }
    if (whole_open)
      h.content = whole.finish();
    else
      h.content = h.chunks.empty() ? sha256(std::span<const std::uint8_t>()) : h.chunks.front().sha;
    out.members.push_back(std::move(h));
    return {};
  };
  std::uint64_t pos = job.begin;
  for (const Span& m : job.members) {
    if (m.offset < pos) {  // libarchive reports members in file order; never expected
      out.error =
          make_error(ErrorKind::Invalid, name_ + ": members overlap at byte " + std::to_string(m.offset));
      return out;
    }
    Status s = raw(pos, m.offset);
    if (s.ok()) s = member(m);
    if (!s.ok()) {
      out.error = s.error();
      out.members.clear();
      return out;
    }
    pos = m.offset + m.size;
  }
  if (Status s = raw(pos, job.end); !s.ok()) {
    out.error = s.error();
    out.members.clear();
    return out;
  }
  digest = seg.finish();
  return out;
}

}  // namespace recall::import
