#include "catalogd/http/fs_wire.h"

namespace recall::fswire {
namespace {

void put_u(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_i(std::string& out, std::int64_t v) {
  put_u(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}
void put_s(std::string& out, std::string_view s) {
  put_u(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool done() const { return pos_ >= b_.size(); }
  bool ok() const { return ok_; }
  std::uint64_t u() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return fail();
      auto c = static_cast<unsigned char>(b_[pos_++]);
      v |= static_cast<std::uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    return fail();
  }
  std::int64_t i() {
    std::uint64_t z = u();
    return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  unsigned char byte() {
    if (pos_ >= b_.size()) return static_cast<unsigned char>(fail());
    return static_cast<unsigned char>(b_[pos_++]);
  }
  std::string s() {
    std::uint64_t n = u();
    if (!ok_ || n > b_.size() - pos_) return fail(), std::string();
    std::string v(b_.substr(pos_, n));
    pos_ += n;
    return v;
  }

 private:
  std::uint64_t fail() {
    ok_ = false;
    pos_ = b_.size();
    return 0;
  }
  std::string_view b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void put_entry(std::string& out, const Entry& e) {
  put_s(out, e.name);
  put_i(out, e.node_id);
  put_i(out, e.version_id);
  put_i(out, e.link_node);
  out.push_back(e.type);
  put_u(out, e.mode);
  put_u(out, e.uid);
  put_u(out, e.gid);
  put_u(out, e.size);
  put_u(out, e.nlink);
  put_u(out, e.rdev);
  put_i(out, e.mtime_ns);
  put_i(out, e.ctime_ns);
  put_s(out, e.link_target);
  put_u(out, e.xattrs.size());
  for (const auto& [k, v] : e.xattrs) {
    put_s(out, k);
    put_s(out, v);
  }
}

Entry get_entry(Reader& r) {
  Entry e;
  e.name = r.s();
  e.node_id = r.i();
  e.version_id = r.i();
  e.link_node = r.i();
  e.type = static_cast<char>(r.byte());
  e.mode = static_cast<std::uint32_t>(r.u());
  e.uid = static_cast<std::uint32_t>(r.u());
  e.gid = static_cast<std::uint32_t>(r.u());
  e.size = r.u();
  e.nlink = r.u();
  e.rdev = r.u();
  e.mtime_ns = r.i();
  e.ctime_ns = r.i();
  e.link_target = r.s();
  std::uint64_t n = r.u();
  for (std::uint64_t k = 0; k < n && r.ok(); ++k) {
    std::string name = r.s();
    e.xattrs.emplace_back(std::move(name), r.s());
  }
  return e;
}

}  // namespace

void encode(std::string& out, const Listing& l) {
  put_entry(out, l.self);
  put_u(out, l.children.size());
  for (const auto& c : l.children) put_entry(out, c);
}

Result<std::vector<Listing>> decode(std::string_view bytes) {
  Reader r(bytes);
  std::vector<Listing> out;
  while (!r.done()) {
    Listing l;
    l.self = get_entry(r);
    std::uint64_t n = r.u();
    if (n > bytes.size()) return make_error(ErrorKind::Corrupt, "recalld sent a malformed directory listing");
    l.children.reserve(n);
    for (std::uint64_t k = 0; k < n && r.ok(); ++k) l.children.push_back(get_entry(r));
    if (r.ok()) out.push_back(std::move(l));
  }
  if (!r.ok()) return make_error(ErrorKind::Corrupt, "recalld sent a malformed directory listing");
  return out;
}

}  // namespace recall::fswire
