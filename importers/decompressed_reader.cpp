#include "importers/decompressed_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace recall::import {

// One decoder. run() decodes from `in` into `out` and says how much it took and gave; with
// `finish` there is no more input, and `done` says whether the stream ended whole.
class DecompressedReader::Codec {
 public:
  struct Step {
    std::size_t consumed = 0, produced = 0;
    bool done = false;  // the last stream or frame is complete
  };
  virtual ~Codec() = default;
  // The error text of a failed step is the decoder's reason, without the file's name.
  virtual Result<Step> run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, bool finish) = 0;
  // False once the stream turned out to carry no check (xz --check=none).
  virtual bool checked() const { return true; }
  // Reads the file itself (libarchive's filters) instead of being given `in`.
  virtual bool pulls_input() const { return false; }
};

namespace {

Error corrupt(const std::string& why) { return make_error(ErrorKind::Corrupt, why); }

// Between two members of a gzip or bzip2 stream: zero padding (tape blocks padded out) is
// skipped, as gzip and bzip2 skip it; anything else must start the next member with `magic`.
// True when the next member starts at `in`; false when the caller returns `s` as it is (padding
// taken, or, with `finish`, the stream ended whole).
Result<bool> next_member(std::span<const std::uint8_t>& in, DecompressedReader::Codec::Step& s,
                         std::uint8_t magic, bool finish, const std::string& format) {
  while (s.consumed < in.size() && in[s.consumed] == 0) ++s.consumed;
  in = in.subspan(s.consumed);
  if (in.empty()) {
    s.done = finish;  // zeros may go on in the next read: only the end of the input ends it
    return false;
  }
  if (in[0] != magic)
    return corrupt("bytes that are not " + format + " after the end of the " + format + " stream");
  return true;
}

class GzipCodec : public DecompressedReader::Codec {
 public:
  GzipCodec() { inflateInit2(&z_, 15 + 16); }  // gzip wrapper: zlib checks CRC-32 and ISIZE
  ~GzipCodec() override { inflateEnd(&z_); }
  Result<Step> run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, bool finish) override {
    Step s;
    if (!in_member_) {
      auto starts = next_member(in, s, 0x1f, finish, "gzip");
      if (!starts.ok()) return starts.error();
      if (!*starts) return s;
      inflateReset(&z_);
      in_member_ = true;
    }
    z_.next_in = const_cast<Bytef*>(in.data());
    z_.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1u << 30));
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), 1u << 30));
    const int rc = inflate(&z_, Z_NO_FLUSH);
    s.consumed += static_cast<std::size_t>(z_.next_in - in.data());
    s.produced = static_cast<std::size_t>(z_.next_out - out.data());
    if (rc == Z_STREAM_END) {
      in_member_ = false;
    } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && !finish)) {
      if (rc == Z_BUF_ERROR) return corrupt("the gzip stream is truncated");
      return corrupt(std::string("gzip: ") + (z_.msg ? z_.msg : "invalid data"));
    }
    s.done = !in_member_ && finish;
    return s;
  }

 private:
  z_stream z_{};
  bool in_member_ = true;
};

class Bzip2Codec : public DecompressedReader::Codec {
 public:
  Bzip2Codec() { BZ2_bzDecompressInit(&b_, 0, 0); }
  ~Bzip2Codec() override { BZ2_bzDecompressEnd(&b_); }
  Result<Step> run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, bool finish) override {
    Step s;
    if (!in_stream_) {  // concatenated streams (pbzip2, lbzip2) each start with "BZh"
      auto starts = next_member(in, s, 'B', finish, "bzip2");
      if (!starts.ok()) return starts.error();
      if (!*starts) return s;
      BZ2_bzDecompressEnd(&b_);
      b_ = bz_stream{};
      BZ2_bzDecompressInit(&b_, 0, 0);
      in_stream_ = true;
    }
    b_.next_in = reinterpret_cast<char*>(const_cast<std::uint8_t*>(in.data()));
    b_.avail_in = static_cast<unsigned>(std::min<std::size_t>(in.size(), 1u << 30));
    b_.next_out = reinterpret_cast<char*>(out.data());
    b_.avail_out = static_cast<unsigned>(std::min<std::size_t>(out.size(), 1u << 30));
    const int rc = BZ2_bzDecompress(&b_);
    s.consumed += static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(b_.next_in) - in.data());
    s.produced = static_cast<std::size_t>(reinterpret_cast<std::uint8_t*>(b_.next_out) - out.data());
    if (rc == BZ_STREAM_END) {
      in_stream_ = false;
    } else if (rc == BZ_DATA_ERROR) {
      return corrupt("bzip2: data integrity (CRC) error");
    } else if (rc != BZ_OK) {
      return corrupt("bzip2: invalid data (error " + std::to_string(rc) + ")");
    }
    s.done = !in_stream_ && finish;
    return s;
  }

 private:
  bz_stream b_{};
  bool in_stream_ = true;
};

class LzmaCodec : public DecompressedReader::Codec {
 public:
  explicit LzmaCodec(bool lzip) : lzip_(lzip) {
    // An xz file written without a check (--check=none) cannot be verified: noted.
    init_ = lzip ? lzma_lzip_decoder(&l_, UINT64_MAX, LZMA_CONCATENATED)
                 : lzma_stream_decoder(&l_, UINT64_MAX, LZMA_CONCATENATED | LZMA_TELL_NO_CHECK);
  }
  ~LzmaCodec() override { lzma_end(&l_); }
  bool checked() const override { return checked_; }
  Result<Step> run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, bool finish) override {
    if (init_ != LZMA_OK) return make_error(ErrorKind::Io, "cannot start the xz decoder (out of memory?)");
    l_.next_in = in.data();
    l_.avail_in = in.size();
    l_.next_out = out.data();
    l_.avail_out = out.size();
    lzma_ret rc = lzma_code(&l_, finish ? LZMA_FINISH : LZMA_RUN);
    if (rc == LZMA_NO_CHECK) {  // said once, before any data: decoding goes on
      checked_ = false;
      rc = lzma_code(&l_, finish ? LZMA_FINISH : LZMA_RUN);
    }
    Step s{static_cast<std::size_t>(l_.next_in - in.data()),
           static_cast<std::size_t>(l_.next_out - out.data())};
    const std::string fmt = lzip_ ? "lzip" : "xz";
    switch (rc) {
      case LZMA_OK:
        return s;
      case LZMA_STREAM_END:
        s.done = true;
        return s;
      case LZMA_DATA_ERROR:
        return corrupt(fmt + ": compressed data is corrupt");
      case LZMA_BUF_ERROR:
        return corrupt(fmt + ": the stream is truncated");
      case LZMA_FORMAT_ERROR:
        return corrupt(fmt + ": bytes that are not " + fmt + " in the stream");
      case LZMA_MEM_ERROR:
        return make_error(ErrorKind::Io, fmt + ": out of memory");
      default:
        return corrupt(fmt + ": unsupported or damaged stream (error " + std::to_string(rc) + ")");
    }
  }

 private:
  lzma_stream l_ = LZMA_STREAM_INIT;
  bool lzip_;
  bool checked_ = true;
  lzma_ret init_;
};

class ZstdCodec : public DecompressedReader::Codec {
 public:
  ZstdCodec() : d_(ZSTD_createDStream()) { ZSTD_initDStream(d_); }
  ~ZstdCodec() override { ZSTD_freeDStream(d_); }
  Result<Step> run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, bool finish) override {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    Step s;
    // Called with no input too: the decoder may hold output that did not fit last time.
    const std::size_t r = ZSTD_decompressStream(d_, &ob, &ib);
    if (ZSTD_isError(r)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(r));
    if (ib.pos > 0 || ob.pos > 0) frame_done_ = r == 0;
    s.consumed = ib.pos;
    s.produced = ob.pos;
    s.done = finish && frame_done_;
    return s;
  }

 private:
  ZSTD_DStream* d_;
  bool frame_done_ = false;
};

class Lz4Codec : public DecompressedReader::Codec {
 public:
  Lz4Codec() { LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION); }
  ~Lz4Codec() override { LZ4F_freeDecompressionContext(ctx_); }
  Result<Step> run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, bool finish) override {
    Step s;
    std::size_t src = in.size(), dst = out.size();  // no input: flushes what it holds
    const std::size_t r = LZ4F_decompress(ctx_, out.data(), &dst, in.data(), &src, nullptr);
    if (LZ4F_isError(r)) return corrupt(std::string("lz4: ") + LZ4F_getErrorName(r));
    if (src > 0 || dst > 0) frame_done_ = r == 0;
    s.consumed = src;
    s.produced = dst;
    s.done = finish && frame_done_;
    return s;
  }

 private:
  LZ4F_dctx* ctx_ = nullptr;
  bool frame_done_ = false;
};

std::unique_ptr<DecompressedReader::Codec> codec_for(std::span<const std::uint8_t> h, std::string& format) {
  auto starts = [&](std::initializer_list<std::uint8_t> m) {
    return h.size() >= m.size() && std::equal(m.begin(), m.end(), h.begin());
  };
  if (starts({0x1f, 0x8b})) return format = "gzip", std::make_unique<GzipCodec>();
  if (starts({'B', 'Z', 'h'}) && h.size() > 3 && h[3] >= '1' && h[3] <= '9')
    return format = "bzip2", std::make_unique<Bzip2Codec>();
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return format = "xz", std::make_unique<LzmaCodec>(false);
  if (starts({'L', 'Z', 'I', 'P'})) return format = "lzip", std::make_unique<LzmaCodec>(true);
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return format = "zstd", std::make_unique<ZstdCodec>();
  if (starts({0x04, 0x22, 0x4d, 0x18})) return format = "lz4", std::make_unique<Lz4Codec>();
  return nullptr;
}

}  // namespace

// Formats Recall has no decoder of its own for, through libarchive's filters ("raw" format).
class LibarchiveCodec : public DecompressedReader::Codec {
 public:
  // Reads the file through `fill` (the reader's); nullptr with format "none" when libarchive
  // finds no filter either.
  static Result<std::unique_ptr<LibarchiveCodec>> open(
      std::function<Result<std::span<const std::uint8_t>>()> fill, std::string& format) {
    std::unique_ptr<LibarchiveCodec> c(new LibarchiveCodec);
    c->fill_ = std::move(fill);
    archive_read_support_filter_all(c->a_);
    archive_read_support_format_raw(c->a_);
    archive_read_set_read_callback(c->a_, &LibarchiveCodec::read_cb);
    archive_read_set_callback_data(c->a_, c.get());
    archive_entry* e = nullptr;
    if (archive_read_open1(c->a_) != ARCHIVE_OK || archive_read_next_header(c->a_, &e) != ARCHIVE_OK)
      return corrupt(c->error());
    format = archive_filter_count(c->a_) > 1 ? archive_filter_name(c->a_, 0) : "none";
    return c;
  }
  ~LibarchiveCodec() override { archive_read_free(a_); }
  bool pulls_input() const override { return true; }
  Result<Step> run(std::span<const std::uint8_t>, std::span<std::uint8_t> out, bool) override {
    la_ssize_t r = archive_read_data(a_, out.data(), out.size());
    if (r < 0) return corrupt(error());
    Step s;
    s.produced = static_cast<std::size_t>(r);
    s.done = r == 0;
    return s;
  }

 private:
  LibarchiveCodec() : a_(archive_read_new()) {}
  static la_ssize_t read_cb(archive* a, void* self, const void** out) {
    auto* c = static_cast<LibarchiveCodec*>(self);
    auto got = c->fill_();
    if (!got.ok()) {
      archive_set_error(a, EIO, "%s", got.error().message.c_str());
      return -1;
    }
    *out = got->data();
    return static_cast<la_ssize_t>(got->size());
  }
  std::string error() const {
    const char* m = archive_error_string(a_);
    return m ? m : "cannot decompress";
  }
  archive* a_;
  std::function<Result<std::span<const std::uint8_t>>()> fill_;
};

Result<std::unique_ptr<DecompressedReader>> DecompressedReader::open(int fd, const std::string& name,
                                                                     RawHook on_raw) {
  std::unique_ptr<DecompressedReader> r(new DecompressedReader);
  r->fd_ = fd;
  r->name_ = name;
  r->on_raw_ = std::move(on_raw);
  r->in_.resize(256 << 10);
  while (r->in_len_ < 6 && !r->eof_) {  // enough for every magic number
    auto n = r->fill();
    if (!n.ok()) return n.error();
  }
  std::span<const std::uint8_t> head(r->in_.data(), r->in_len_);
  if ((r->codec_ = codec_for(head, r->format_))) return r;
  // Not one of ours: libarchive reads it, from what was read so far on.
  DecompressedReader* self = r.get();
  bool first = true;
  auto la = LibarchiveCodec::open(
      [self, first]() mutable -> Result<std::span<const std::uint8_t>> {
        if (first) {
          first = false;
          if (self->in_len_ > self->in_pos_) {
            std::span<const std::uint8_t> s(self->in_.data() + self->in_pos_, self->in_len_ - self->in_pos_);
            self->in_pos_ = self->in_len_;
            return s;
          }
        }
        self->in_pos_ = self->in_len_ = 0;
        auto n = self->fill();
        if (!n.ok()) return n.error();
        self->in_pos_ = self->in_len_;
        return std::span<const std::uint8_t>(self->in_.data(), self->in_len_);
      },
      r->format_);
  if (!la.ok()) return make_error(la.error().kind, name + ": " + la.error().message);
  r->codec_ = std::move(*la);
  r->checked_ = r->format_ == "none";
  return r;
}

DecompressedReader::~DecompressedReader() = default;

Result<std::size_t> DecompressedReader::fill() {
  if (in_pos_ == in_len_) in_pos_ = in_len_ = 0;
  if (in_len_ == in_.size() || eof_) return std::size_t{0};
  for (;;) {
    ssize_t n = ::read(fd_, in_.data() + in_len_, in_.size() - in_len_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read " + name_, errno);
    if (n == 0) eof_ = true;
    if (on_raw_ && n > 0) on_raw_({in_.data() + in_len_, static_cast<std::size_t>(n)});
    in_len_ += static_cast<std::size_t>(n);
    return static_cast<std::size_t>(n);
  }
}

Result<std::size_t> DecompressedReader::read(std::uint8_t* buf, std::size_t n) {
  if (done_ || n == 0) return std::size_t{0};
  for (int idle = 0;;) {
    const bool pulls = codec_->pulls_input();
    if (!pulls && in_pos_ == in_len_ && !eof_) {
      auto got = fill();
      if (!got.ok()) return got.error();
    }
    const bool finish = eof_ && in_pos_ == in_len_;
    auto step = codec_->run({in_.data() + in_pos_, in_len_ - in_pos_}, {buf, n}, finish);
    if (!step.ok()) return make_error(step.error().kind, name_ + ": " + step.error().message);
    in_pos_ += step->consumed;
    if (!codec_->checked()) checked_ = false;
    if (step->produced > 0) return step->produced;
    if (step->done) {
      done_ = true;
      return std::size_t{0};
    }
    if (pulls) continue;
    // No output and no end: more input is needed. With none left the stream was cut short.
    if (finish && step->consumed == 0 && ++idle > 2)
      return make_error(ErrorKind::Corrupt, name_ + ": the " + format_ + " stream is truncated");
  }
}

Status DecompressedReader::drain() {
  std::vector<std::uint8_t> scratch(256 << 10);
  for (;;) {
    auto n = read(scratch.data(), scratch.size());
    if (!n.ok()) return n.error();
    if (*n == 0) return {};
  }
}

}  // namespace recall::import
