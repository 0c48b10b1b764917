#include "importers/pax_dumpdirs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "common/unique_fd.h"
#include "importers/decompressed_reader.h"

namespace recall::import {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::uint64_t kMaxExtended = 64u << 20;  // one extended header's records

// Where the header walk reads from: exact reads (short only at the end), forward skips.
class Source {
 public:
  virtual ~Source() = default;
  virtual Result<std::size_t> read(std::uint8_t* buf, std::size_t n) = 0;
  virtual Status skip(std::uint64_t n) = 0;
};

class FileSource : public Source {
 public:
  FileSource(int fd, const std::string& name) : fd_(fd), name_(name) {}
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n) override {
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, buf + got, n - got, static_cast<off_t>(pos_ + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return io_error("cannot read " + name_, errno);
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    pos_ += got;
    return got;
  }
  Status skip(std::uint64_t n) override {
    pos_ += n;
    return {};
  }

 private:
  int fd_;
  const std::string& name_;
  std::uint64_t pos_ = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n) override {
    const std::size_t k = pos_ < data_.size() ? std::min(n, data_.size() - pos_) : 0;
    std::copy_n(data_.data() + pos_, k, reinterpret_cast<char*>(buf));
    pos_ += k;
    return k;
  }
  Status skip(std::uint64_t n) override {
    pos_ = static_cast<std::size_t>(std::min<std::uint64_t>(data_.size(), pos_ + n));
    return {};
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// The decompressed stream of a compressed archive, its checks enforced (DecompressedReader).
class DecompressedSource : public Source {
 public:
  static Result<std::unique_ptr<DecompressedSource>> open(const std::string& path) {
    std::unique_ptr<DecompressedSource> s(new DecompressedSource);
    s->fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!s->fd_) return io_error("cannot open " + path, errno);
    auto r = DecompressedReader::open(s->fd_.get(), path);
    if (!r.ok()) return r.error();
    s->r_ = std::move(*r);
    return s;
  }
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n) override {
    std::size_t got = 0;
    while (got < n) {
      auto r = r_->read(buf + got, n - got);
      if (!r.ok()) return r.error();
      if (*r == 0) break;
      got += *r;
    }
    return got;
  }
  Status skip(std::uint64_t n) override {
    std::array<std::uint8_t, 64 << 10> scratch;
    while (n > 0) {
      auto r = read(scratch.data(), static_cast<std::size_t>(std::min<std::uint64_t>(n, scratch.size())));
      if (!r.ok()) return r.error();
      if (*r == 0) return {};  // the walk finds the end itself
      n -= *r;
    }
    return {};
  }

 private:
  DecompressedSource() = default;
  UniqueFd fd_;
  std::unique_ptr<DecompressedReader> r_;
};

// A header's numeric field: octal digits (space or NUL ended), or base-256 when the high bit of
// the first byte is set.
std::optional<std::uint64_t> numeric(const std::uint8_t* f, std::size_t len) {
  if (f[0] & 0x80) {
    if (f[0] == 0xFF) return std::nullopt;  // negative
    std::uint64_t v = f[0] & 0x7F;
    for (std::size_t i = 1; i < len; ++i) {
      if (v >> 56) return std::nullopt;
      v = v << 8 | f[i];
    }
    return v;
  }
  std::size_t i = 0;
  while (i < len && f[i] == ' ') ++i;
  std::uint64_t v = 0;
  bool any = false;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; ++i, any = true) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + (f[i] - '0');
  }
  if (i < len && f[i] != ' ' && f[i] != '\0') return std::nullopt;
  if (!any) return 0;
  return v;
}

std::uint64_t padded(std::uint64_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

// The records of an extended header: "<len> <key>=<value>\n", len counting the whole record.
Status parse_records(std::string_view data, std::optional<std::string>& dumpdir,
                     std::optional<std::uint64_t>& size) {
  while (!data.empty()) {
    if (data.front() == '\0') break;  // padding
    std::size_t sp = data.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp > 20)
      return make_error(ErrorKind::Invalid, "bad record");
    std::uint64_t len = 0;
    for (char c : data.substr(0, sp)) {
      if (c < '0' || c > '9') return make_error(ErrorKind::Invalid, "bad record length");
      len = len * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (len <= sp + 2 || len > data.size() || data[len - 1] != '\n')
      return make_error(ErrorKind::Invalid, "bad record length");
    std::string_view kv = data.substr(sp + 1, len - sp - 2);
    data.remove_prefix(len);
    std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return make_error(ErrorKind::Invalid, "record without '='");
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "GNU.dumpdir") {
      dumpdir = std::string(value);
    } else if (key == "size") {
      std::uint64_t v = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
          return make_error(ErrorKind::Invalid, "bad size");
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      size = v;
    }
  }
  return {};
}

Result<PaxDumpdirs> walk(Source& in, const std::string& name) {
  PaxDumpdirs out;
  std::uint64_t pos = 0, header_at = 0;
  std::uint64_t entry_start = 0;  // where the headers of the entry being read began
  bool in_entry = false;
  std::optional<std::uint64_t> pax_size;
  std::optional<std::string> dumpdir;
  std::array<std::uint8_t, kBlock> h;
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::Invalid,
                      name + ": header at byte " + std::to_string(header_at) + ": " + why);
  };
  for (;;) {
    auto got = in.read(h.data(), kBlock);
    if (!got.ok()) return got.error();
    if (*got < kBlock) break;  // the end (libarchive judges truncation)
    header_at = pos;
    if (std::all_of(h.begin(), h.end(), [](std::uint8_t b) { return b == 0; })) break;
    const char type = static_cast<char>(h[156]);
    auto size = numeric(h.data() + 124, 12);
    if (!size) return bad("size field is not a number");
    if (!in_entry) entry_start = pos, in_entry = true;
    pos += kBlock;
    if (type == 'x' || type == 'g') {
      if (*size > kMaxExtended) return bad("extended header of " + std::to_string(*size) + " bytes");
      std::string records(static_cast<std::size_t>(*size), '\0');
      auto r = in.read(reinterpret_cast<std::uint8_t*>(records.data()), records.size());
      if (!r.ok()) return r.error();
      if (*r < records.size()) break;
      if (type == 'x')
        if (Status s = parse_records(records, dumpdir, pax_size); !s.ok()) return bad(s.error().message);
      RECALL_TRY(in.skip(padded(*size) - *size));
      pos += padded(*size);
    } else if (type == 'L' || type == 'K') {  // GNU long names: part of the next entry's headers
      RECALL_TRY(in.skip(padded(*size)));
      pos += padded(*size);
    } else {
      const std::uint64_t data = pax_size.value_or(*size);
      if (dumpdir) out.emplace(entry_start, std::move(*dumpdir));
      in_entry = false;
      pax_size.reset();
      dumpdir.reset();
      RECALL_TRY(in.skip(padded(data)));
      pos += padded(data);
    }
  }
  return out;
}

}  // namespace

Result<PaxDumpdirs> read_pax_dumpdirs(const std::string& path, bool compressed) {
  if (compressed) {
    auto src = DecompressedSource::open(path);
    if (!src.ok()) return src.error();
    return walk(**src, path);
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open " + path, errno);
  FileSource src(fd.get(), path);
  return walk(src, path);
}

Result<PaxDumpdirs> read_pax_dumpdirs_from(std::string_view archive, const std::string& name) {
  MemorySource src(archive);
  return walk(src, name);
}

}  // namespace recall::import
