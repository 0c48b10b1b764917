#include "importers/point_record.h"

#include <zstd.h>

#include <cstring>
#include <limits>

#include "catalogd/store/meta_codec.h"
#include "restic/blob.h"

namespace recall::import {
namespace {

constexpr char kMagic[8] = {'R', 'C', 'L', 'P', 'O', 'I', 'N', 'T'};
constexpr std::uint16_t kVersion = 1;
constexpr int kMaxDepth = 512;

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

// LEB128 integers and length-prefixed strings: compact for the many small numbers of a tree.
class Encoder {
 public:
  void u(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void s(std::int64_t v) { u((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void str(std::string_view t) {
    u(t.size());
    out_.insert(out_.end(), t.begin(), t.end());
  }
  void digest(const Digest& d) { out_.insert(out_.end(), d.begin(), d.end()); }
  std::vector<std::uint8_t>& bytes() { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

class Decoder {
 public:
  explicit Decoder(std::span<const std::uint8_t> in) : in_(in) {}
  bool u(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const std::uint8_t b = in_[pos_++];
      if (shift == 63 && b > 1) return false;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  template <class T>
  bool u_as(T& v) {
    std::uint64_t x;
    if (!u(x) || x > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
    v = static_cast<T>(x);
    return true;
  }
  bool s(std::int64_t& v) {
    std::uint64_t x;
    if (!u(x)) return false;
    v = static_cast<std::int64_t>(x >> 1) ^ -static_cast<std::int64_t>(x & 1);
    return true;
  }
  bool str(std::string& t, std::size_t max) {
    std::uint64_t n;
    if (!u(n) || n > max || n > remaining()) return false;
    t.assign(reinterpret_cast<const char*>(in_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool digest(Digest& d) {
    if (remaining() < d.size()) return false;
    std::memcpy(d.data(), in_.data() + pos_, d.size());
    pos_ += d.size();
    return true;
  }
  bool byte(std::uint8_t& b) {
    if (pos_ >= in_.size()) return false;
    b = in_[pos_++];
    return true;
  }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

void encode_meta(Encoder& e, const FileMeta& m) {
  e.u(static_cast<std::uint8_t>(store::type_code(m.type)));
  e.u(m.mode);
  e.u(m.uid);
  e.u(m.gid);
  e.str(m.user);
  e.str(m.group);
  e.u(m.size);
  e.s(m.mtime_ns);
  e.s(m.ctime_ns);
  e.u(m.ino);
  e.u(m.nlink);
  e.u(m.rdev);
  e.str(m.link_target);
  e.str(store::encode_extra(m));
}

bool valid_type(char c) { return c != 0 && std::strchr("fdlcbps", c) != nullptr; }

Status decode_meta(Decoder& d, FileMeta& m) {
  auto bad = [](const char* what) { return make_error(ErrorKind::Invalid, std::string("bad ") + what); };
  std::uint8_t type = 0;
  if (!d.u_as(type) || !valid_type(static_cast<char>(type))) return bad("entry type");
  m.type = store::type_from_code(static_cast<char>(type));
  if (!d.u_as(m.mode) || m.mode > 07777) return bad("mode");
  if (!d.u_as(m.uid) || !d.u_as(m.gid)) return bad("owner");
  if (!d.str(m.user, 256) || !d.str(m.group, 256)) return bad("owner name");
  if (!d.u(m.size) || !d.s(m.mtime_ns) || !d.s(m.ctime_ns) || !d.u(m.ino) || !d.u_as(m.nlink) || !d.u(m.rdev))
    return bad("metadata");
  if (!d.str(m.link_target, 4096)) return bad("symlink target");
  std::string extra;
  if (!d.str(extra, 1u << 20)) return bad("xattrs");
  if (!extra.empty()) {
    try {
      store::decode_extra(extra, m);
    } catch (const std::exception&) {
      return bad("xattrs");
    }
  }
  return {};
}

void encode_node(Encoder& e, const ImageNode& n) {
  encode_meta(e, n.meta);
  e.u(static_cast<std::uint64_t>(n.content_id));
  if (!is_dir(n.meta)) return;
  e.u(n.children.size());
  for (const auto& [name, child] : n.children) {
    e.str(name);
    encode_node(e, *child);
  }
}

bool plain_name(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.size() <= 255 && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos;
}

Status decode_node(Decoder& d, ImageNode& n, std::size_t contents, int depth, std::uint64_t& entries) {
  if (depth > kMaxDepth) return make_error(ErrorKind::Invalid, "tree nested deeper than 512 levels");
  if (++entries > (1ull << 32)) return make_error(ErrorKind::Invalid, "too many entries");
  RECALL_TRY(decode_meta(d, n.meta));
  std::uint64_t content = 0;
  if (!d.u(content) || content > contents)
    return make_error(ErrorKind::Invalid, "content index out of range");
  if (content != 0 && n.meta.type != FileType::Regular)
    return make_error(ErrorKind::Invalid, "content on an entry that is not a regular file");
  n.content_id = static_cast<std::int64_t>(content);
  if (!is_dir(n.meta)) return {};
  std::uint64_t count = 0;
  if (!d.u(count) || count > d.remaining()) return make_error(ErrorKind::Invalid, "bad child count");
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name;
    if (!d.str(name, 255) || !plain_name(name)) return make_error(ErrorKind::Invalid, "bad entry name");
    auto child = std::make_unique<ImageNode>();
    RECALL_TRY(decode_node(d, *child, contents, depth + 1, entries));
    if (!n.children.emplace(std::move(name), std::move(child)).second)
      return make_error(ErrorKind::Invalid, "a name twice in one directory");
  }
  return {};
}

}  // namespace

std::vector<std::uint8_t> encode_point_record(const PointRecord& r) {
  Encoder e;
  e.str(r.host);
  e.s(r.at);
  e.str(r.importer);
  e.str(r.kind);
  e.str(r.source);
  e.str(r.stats);
  e.u(r.chunks.size());
  for (const auto& c : r.chunks) {
    e.digest(c.sha);
    e.u(c.size);
  }
  e.u(r.contents.size());
  for (const auto& c : r.contents) {
    e.digest(c.sha);
    e.u(c.size);
    e.u((c.whole_sha ? 1 : 0) | (c.gap ? 2 : 0) | (c.gap_source_sha ? 4 : 0));
    if (c.gap) e.str(*c.gap);
    if (c.gap_source_sha) e.digest(*c.gap_source_sha);
    e.u(c.chunks.size());
    for (auto i : c.chunks) e.u(i);
  }
  encode_node(e, r.image.root());
  return std::move(e.bytes());
}

Result<PointRecord> decode_point_record(std::span<const std::uint8_t> bytes) {
  Decoder d(bytes);
  PointRecord r;
  auto bad = [](const std::string& what) -> Result<PointRecord> {
    return make_error(ErrorKind::Invalid, "point record: " + what);
  };
  if (!d.str(r.host, 255) || r.host.empty()) return bad("bad host name");
  if (!d.s(r.at) || !d.str(r.importer, 64) || !d.str(r.kind, 64) || !d.str(r.source, 1u << 16) ||
      !d.str(r.stats, 1u << 24))
    return bad("bad point header");
  std::uint64_t n = 0;
  if (!d.u(n) || n > d.remaining() / 33) return bad("bad chunk count");
  r.chunks.resize(static_cast<std::size_t>(n));
  for (auto& c : r.chunks) {
    if (!d.digest(c.sha) || !d.u_as(c.size)) return bad("truncated chunk table");
  }
  if (!d.u(n) || n > d.remaining() / 35) return bad("bad content count");
  r.contents.resize(static_cast<std::size_t>(n));
  for (auto& c : r.contents) {
    std::uint8_t flags = 0;
    if (!d.digest(c.sha) || !d.u(c.size) || !d.u_as(flags) || flags > 7)
      return bad("truncated content table");
    c.whole_sha = flags & 1;
    if (flags & 2) {
      std::string reason;
      if (!d.str(reason, 4096)) return bad("bad gap reason");
      c.gap = std::move(reason);
    }
    if (flags & 4) {
      Digest s;
      if (!d.digest(s)) return bad("truncated gap hash");
      c.gap_source_sha = s;
    }
    std::uint64_t k = 0;
    if (!d.u(k) || k > d.remaining()) return bad("bad chunk list");
    if (c.gap && k != 0) return bad("a gap with chunks");
    c.chunks.resize(static_cast<std::size_t>(k));
    std::uint64_t sum = 0;
    for (auto& i : c.chunks) {
      if (!d.u_as(i) || i >= r.chunks.size()) return bad("chunk index out of range");
      sum += r.chunks[i].size;
    }
    if (!c.gap && sum != c.size) return bad("chunk sizes do not add up to the file size");
  }
  std::uint64_t entries = 0;
  if (auto s = decode_node(d, r.image.root(), r.contents.size(), 0, entries); !s.ok())
    return bad(s.error().message);
  if (!is_dir(r.image.root().meta)) return bad("the root is not a directory");
  if (d.remaining() != 0) return bad("bytes after the tree");
  return r;
}

std::vector<std::vector<std::uint8_t>> frame_record_parts(std::span<const std::uint8_t> encoded) {
  std::vector<std::uint8_t> z(ZSTD_compressBound(encoded.size()));
  const std::size_t n = ZSTD_compress(z.data(), z.size(), encoded.data(), encoded.size(), 3);
  z.resize(ZSTD_isError(n) ? 0 : n);  // cannot fail with a bound-sized buffer
  const Digest id = sha256(z);
  constexpr std::size_t room = kRecordPartBytes - kRecordPartHeader;
  const std::size_t count = std::max<std::size_t>(1, (z.size() + room - 1) / room);
  std::vector<std::vector<std::uint8_t>> parts;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<std::uint8_t> p(kMagic, kMagic + 8);
    put_le(p, kVersion, 2);
    put_le(p, 0, 2);
    put_le(p, i, 4);
    put_le(p, count, 4);
    put_le(p, 0, 4);
    put_le(p, z.size(), 8);
    p.insert(p.end(), id.begin(), id.end());
    const std::size_t from = i * room, len = std::min(room, z.size() - from);
    p.insert(p.end(), z.begin() + static_cast<std::ptrdiff_t>(from),
             z.begin() + static_cast<std::ptrdiff_t>(from + len));
    parts.push_back(std::move(p));
  }
  return parts;
}

bool looks_like_record_part(std::span<const std::uint8_t> plain) {
  return plain.size() >= kRecordPartHeader && std::memcmp(plain.data(), kMagic, 8) == 0;
}

Result<RecordPart> parse_record_part(std::span<const std::uint8_t> plain) {
  auto bad = [](const std::string& why) -> Result<RecordPart> {
    return make_error(ErrorKind::Corrupt, "point record part: " + why);
  };
  if (!looks_like_record_part(plain)) return bad("no RCLPOINT magic");
  const std::uint8_t* p = plain.data();
  if (get_le(p + 8, 2) != kVersion) return bad("version " + std::to_string(get_le(p + 8, 2)) + " is not 1");
  if (get_le(p + 10, 2) != 0 || get_le(p + 20, 4) != 0) return bad("reserved bytes are not zero");
  RecordPart r;
  r.index = static_cast<std::uint32_t>(get_le(p + 12, 4));
  r.count = static_cast<std::uint32_t>(get_le(p + 16, 4));
  r.total = get_le(p + 24, 8);
  std::memcpy(r.record_id.data(), p + 32, 32);
  r.data = plain.subspan(kRecordPartHeader);
  constexpr std::size_t room = kRecordPartBytes - kRecordPartHeader;
  if (r.total == 0 || r.total > kMaxRecordBytes) return bad("record length " + std::to_string(r.total));
  if (r.count != (r.total + room - 1) / room || r.index >= r.count) return bad("part numbering");
  const std::uint64_t want = r.index + 1 < r.count ? room : r.total - std::uint64_t{r.index} * room;
  if (r.data.size() != want) return bad("part length " + std::to_string(r.data.size()));
  return r;
}

Status RecordAssembler::add(const RecordPart& part) {
  auto& p = pending_[part.record_id];
  if (p.count == 0) {
    p.count = part.count;
    p.total = part.total;
  } else if (p.count != part.count || p.total != part.total) {
    return make_error(ErrorKind::Corrupt, "point record " + to_hex(part.record_id).substr(0, 16) +
                                              ": parts disagree about its length");
  }
  p.parts.emplace(part.index, std::vector<std::uint8_t>(part.data.begin(), part.data.end()));
  return {};
}

Result<std::vector<RecordAssembler::Assembled>> RecordAssembler::finish(std::size_t* incomplete) {
  std::vector<Assembled> out;
  *incomplete = 0;
  for (auto& [id, p] : pending_) {
    if (p.parts.size() != p.count) {
      ++*incomplete;
      continue;
    }
    std::vector<std::uint8_t> z;
    z.reserve(static_cast<std::size_t>(p.total));
    for (auto& [i, bytes] : p.parts) z.insert(z.end(), bytes.begin(), bytes.end());
    p.parts.clear();
    const std::string name = "point record " + to_hex(id).substr(0, 16);
    if (sha256(z) != id) return make_error(ErrorKind::Corrupt, name + ": SHA-256 mismatch");
    auto plain = restic::zstd_decompress(z, kMaxRecordBytes);
    if (!plain.ok()) return make_error(ErrorKind::Corrupt, name + ": " + plain.error().message);
    out.push_back({id, std::move(*plain)});
  }
  pending_.clear();
  return out;
}

}  // namespace recall::import
