#include "catalogd/daemon/content_reader.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "catalogd/daemon/tape_service.h"
#include "common/sha256.h"

namespace recall::daemon {
namespace {

bool has_disk_copy(const store::ChunkLocation& c) {
  for (const auto& copy : c.copies)
    if (copy.on_disk() && copy.volume_state == "online") return true;
  return false;
}

bool has_tape_copy(const store::ChunkLocation& c) {
  return std::any_of(c.copies.begin(), c.copies.end(), [](const auto& k) { return k.volume_kind == "tape"; });
}

std::string first_volser(const store::ChunkLocation& c) {
  return c.copies.empty() ? "?" : c.copies.front().volser;
}

// The master key of an imported restic repository, from the file the importer wrote.
Result<restic::Key> load_key(const std::string& key_dir, const std::string& key_ref) {
  if (key_dir.empty() || key_ref.find('/') != std::string::npos)
    return make_error(ErrorKind::Corrupt, "no key folder for key " + key_ref);
  const std::string path = key_dir + "/" + key_ref + ".json";
  std::ifstream in(path);
  if (!in) return io_error("cannot read key " + path, errno);
  std::stringstream text;
  text << in.rdbuf();
  auto key = restic::key_from_json(text.str());
  if (!key.ok()) return make_error(ErrorKind::Corrupt, path + ": " + key.error().message);
  return key;
}

}  // namespace

Result<std::shared_ptr<tape::VolumeReader>> VolumeCache::get(const std::string& volser,
                                                             const std::string& path) {
  std::lock_guard lk(mu_);
  if (auto it = open_.find(volser); it != open_.end()) return it->second;
  auto r = tape::VolumeReader::open(path, volser);
  if (!r.ok()) return r.error();
  auto p = std::make_shared<tape::VolumeReader>(std::move(*r));
  open_.emplace(volser, p);
  return p;
}

Result<std::shared_ptr<ArchiveReader>> VolumeCache::get_archive(const std::string& volser,
                                                                const std::string& path,
                                                                const std::string& key_ref) {
  std::lock_guard lk(mu_);
  if (auto it = archives_.find(volser); it != archives_.end()) return it->second;
  std::optional<restic::Key> key;
  if (!key_ref.empty()) {
    auto k = load_key(key_dir_, key_ref);
    if (!k.ok()) return make_error(k.error().kind, "archive " + volser + ": " + k.error().message);
    key = *k;
  }
  auto r = ArchiveReader::open(path, volser, key);
  if (!r.ok()) return r.error();
  auto p = std::make_shared<ArchiveReader>(std::move(*r));
  archives_.emplace(volser, p);
  return p;
}

void VolumeCache::forget(const std::string& volser) {
  std::lock_guard lk(mu_);
  open_.erase(volser);
  archives_.erase(volser);
}

ContentSource::ContentSource(VolumeCache& volumes, StreamCounters& counters, TapeService* tape)
    : volumes_(volumes), counters_(counters), tape_(tape) {}

std::uint64_t ContentSource::window_bytes() const {
  const std::uint64_t cache = tape_ ? tape_->cache().capacity() : 0;
  return std::clamp<std::uint64_t>(cache / 4, 1u << 20, 256u << 20);
}

Status ContentSource::ready_now(const std::vector<store::ChunkLocation>& chunks) const {
  for (const auto& c : chunks) {
    if (has_disk_copy(c)) continue;
    if (tape_ && has_tape_copy(c) && tape_->cache().contains(c.sha)) continue;
    for (const auto& copy : c.copies)
      if (copy.volume_kind == "tape")
        return make_error(ErrorKind::Offline,
                          "data is on tape " + copy.volser + " (" +
                              (tape_ ? tape_->where(copy.volser) : std::string("no library")) +
                              ") and not staged yet");
    return make_error(ErrorKind::Offline, "data is on volume " + first_volser(c) + ", which is not online");
  }
  return {};
}

Result<std::vector<std::uint8_t>> ContentSource::read_disk(const store::ChunkLocation& c) {
  std::optional<Error> last;
  for (const auto& copy : c.copies) {
    if (!copy.on_disk() || copy.volume_state != "online") continue;
    Result<std::vector<std::uint8_t>> data = std::vector<std::uint8_t>();
    if (copy.in_archive()) {
      auto ar = volumes_.get_archive(copy.volser, copy.volume_path, copy.key_ref);
      data = ar.ok() ? (*ar)->read_chunk(copy.offset, copy.length, c.sha, copy.codec, c.size)
                     : Result<std::vector<std::uint8_t>>(ar.error());
    } else {
      auto vol = volumes_.get(copy.volser, copy.volume_path);
      data = vol.ok() ? (*vol)->read_chunk(copy.offset, copy.length, c.sha)
                      : Result<std::vector<std::uint8_t>>(vol.error());
    }
    if (data.ok() && data->size() == c.size) return data;
    if (data.ok()) data = make_error(ErrorKind::Corrupt, "chunk in " + copy.volser + " has the wrong length");
    if (data.error().kind == ErrorKind::Corrupt) counters_.checksum_failures++;
    last = data.error();
  }
  if (last) return *last;
  return make_error(ErrorKind::Offline, "data is on volume " + first_volser(c) + ", which is not online");
}

// One chunk from tape on its own: after its disk copy failed, or its staged copy was damaged.
Result<std::vector<std::uint8_t>> ContentSource::stage_one(const store::ChunkLocation& c,
                                                           const ReadRequest& rq) {
  if (!tape_ || !has_tape_copy(c))
    return make_error(ErrorKind::Offline, "data is on volume " + first_volser(c) + ", which is not online");
  if (rq.nonblock && !tape_->cache().contains(c.sha)) RECALL_TRY(ready_now({c}));
  tape::StageSpec spec{rq.who, rq.priority, rq.what, {TapeService::wanted(c)}, true, rq.tag};
  auto ticket = tape_->scheduler().submit(std::move(spec));
  if (!ticket.ok()) return ticket.error();
  auto pin = tape_->scheduler().take(*ticket, 0, rq.cancelled);
  if (!pin.ok()) return pin.error();
  auto data = tape_->cache().read(*pin);
  if (!data.ok())
    counters_.checksum_failures++;
  else
    counters_.chunks_from_tape++;
  return data;
}

Status ContentSource::read(const store::ContentRow& content, const std::vector<store::ChunkLocation>& chunks,
                           const ReadRequest& rq, const ContentSink& sink) {
  if (!content.unavailable.empty())
    return make_error(ErrorKind::Offline, "the file's bytes are not available: " + content.unavailable);
  std::uint64_t total = 0;
  for (const auto& c : chunks) total += c.size;
  if (total != content.size)
    return make_error(ErrorKind::Corrupt, "catalog lists " + std::to_string(total) +
                                              " bytes of chunks for a file of " +
                                              std::to_string(content.size) + " bytes");
  // Chunks that only tape has, cut into windows of staging requests.
  std::vector<std::size_t> from_tape;
  for (std::size_t i = 0; i < chunks.size(); ++i)
    if (!has_disk_copy(chunks[i])) from_tape.push_back(i);
  if (!from_tape.empty() && (rq.nonblock || !tape_)) RECALL_TRY(ready_now(chunks));
  struct Window {
    std::size_t first = 0, count = 0;  // positions in from_tape
    tape::StagingScheduler::Ticket ticket;
    bool asked = false;
  };
  std::vector<Window> windows;
  const std::uint64_t max_window = window_bytes();
  for (std::size_t k = 0; k < from_tape.size();) {
    Window w;
    w.first = k;
    std::uint64_t bytes = 0;
    while (k < from_tape.size() && (w.count == 0 || bytes + chunks[from_tape[k]].size <= max_window)) {
      bytes += chunks[from_tape[k++]].size;
      w.count++;
    }
    windows.push_back(std::move(w));
  }
  auto ask = [&](std::size_t wi) -> Status {
    if (wi >= windows.size() || windows[wi].asked) return {};
    Window& w = windows[wi];
    tape::StageSpec spec{rq.who, rq.priority, rq.what, {}, true, rq.tag};
    for (std::size_t k = w.first; k < w.first + w.count; ++k)
      spec.chunks.push_back(TapeService::wanted(chunks[from_tape[k]]));
    auto t = tape_->scheduler().submit(std::move(spec));
    if (!t.ok()) return t.error();
    w.ticket = std::move(*t);
    w.asked = true;
    return {};
  };

  Sha256 whole;
  std::vector<Digest> read_chunks;  // for a content known by its chunk list only
  std::size_t next_tape = 0;        // position in from_tape of the next tape chunk
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    if (rq.cancelled && rq.cancelled())
      return make_error(ErrorKind::Cancelled,
                        "reading content " + std::to_string(content.id) + " was cancelled");
    Result<std::vector<std::uint8_t>> data = std::vector<std::uint8_t>();
    if (next_tape < from_tape.size() && from_tape[next_tape] == i) {
      std::size_t wi = 0;
      while (windows[wi].first + windows[wi].count <= next_tape) ++wi;
      RECALL_TRY(ask(wi));
      RECALL_TRY(ask(wi + 1));  // the next window is staged while this one is read
      Window& w = windows[wi];
      auto pin = tape_->scheduler().take(w.ticket, next_tape - w.first, rq.cancelled);
      if (!pin.ok()) return pin.error();
      data = tape_->cache().read(*pin);
      if (data.ok()) {
        counters_.chunks_from_tape++;
      } else {
        counters_.checksum_failures++;
        data = stage_one(c, rq);  // the staged copy was damaged (and dropped): once more from tape
      }
      if (++next_tape == w.first + w.count) w.ticket = {};  // done with it: pins released
    } else {
      data = read_disk(c);
      if (!data.ok() && data.error().kind != ErrorKind::Cancelled) {
        store::ChunkLocation now = c;  // the catalog's copies as of now, if it can say
        if (relocate_)
          if (auto fresh = relocate_(c.sha); fresh.ok()) now.copies = std::move(*fresh);
        if (has_tape_copy(now)) {
          counters_.disk_fallbacks++;
          auto staged = stage_one(now, rq);
          if (!staged.ok())
            return make_error(staged.error().kind,
                              data.error().message + "; from tape: " + staged.error().message);
          data = std::move(staged);
        }
      }
    }
    if (!data.ok()) return data.error();
    if (data->size() != c.size)
      return make_error(ErrorKind::Corrupt, "chunk " + to_hex(c.sha).substr(0, 12) + " has the wrong length");
    counters_.chunks_read++;
    if (content.whole_sha)
      whole.update(*data);
    else
      read_chunks.push_back(c.sha);
    RECALL_TRY(sink(*data));
  }
  if (content.whole_sha ? whole.finish() != content.sha
                        : store::chunk_list_digest(read_chunks) != content.sha) {
    counters_.checksum_failures++;
    return make_error(ErrorKind::Corrupt, "file content does not match its recorded SHA-256");
  }
  return {};
}

}  // namespace recall::daemon
