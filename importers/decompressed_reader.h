// The decompressed bytes of a compressed file, with the format's integrity checks enforced to
// the very end of the stream: gzip (CRC-32 and length of every member, zlib), bzip2 (block and
// stream CRCs), xz and lzip (their checks, liblzma), zstd (frame checksums) and lz4 (frame
// checksums). read() returns 0 only once the whole stream has been decoded and every check has
// passed, so a reader that wants a verdict must read to the end (drain()).
//
// libarchive's own gzip filter never compares the trailer's CRC (a gzip stream with four bytes
// zeroed inside imported as good), and a tar reader stops at the end-of-archive blocks, before
// the checks that follow them; so the importers decompress here and give libarchive only the
// decompressed bytes. Other formats (compress .Z, lzma-alone, lzop...) are decoded by
// libarchive and reported as unchecked: most of them carry no checksum at all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace recall::import {

class DecompressedReader {
 public:
  // Sees every byte read from the file, in order (for the file's SHA-256 and progress).
  using RawHook = std::function<void(std::span<const std::uint8_t>)>;

  // Reads `fd` (not owned) from where it stands; `name` names the file in errors. A file in
  // none of the compressed formats is read as it is (format() "none").
  static Result<std::unique_ptr<DecompressedReader>> open(int fd, const std::string& name,
                                                          RawHook on_raw = {});
  ~DecompressedReader();

  // "none", "gzip", "bzip2", "xz", "lzip", "zstd", "lz4", or libarchive's name of the filter.
  const std::string& format() const { return format_; }
  bool compressed() const { return format_ != "none"; }
  // False for formats whose integrity Recall cannot check itself.
  bool checked() const { return checked_; }

  // Up to `n` decompressed bytes. 0 means the end of the stream, every check passed. Damage
  // is an error of kind Corrupt naming the file and what the decoder found.
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n);
  // Reads (and discards) the rest of the stream: what a caller that stops early calls to know
  // that the stream it used was whole.
  Status drain();

  class Codec;

 private:
  DecompressedReader() = default;
  Result<std::size_t> fill();  // reads more of the file into in_; 0 at its end

  int fd_ = -1;
  std::string name_, format_ = "none";
  bool checked_ = true;
  RawHook on_raw_;
  std::unique_ptr<Codec> codec_;
  std::vector<std::uint8_t> in_;
  std::size_t in_pos_ = 0, in_len_ = 0;
  bool eof_ = false, done_ = false;
};

}  // namespace recall::import
