// Content-defined chunking (FastCDC with normalized chunking, Xia et al., USENIX ATC 2016).
// Boundaries depend only on nearby content, so an insertion early in a file moves only the
// chunk boundaries next to it and every later chunk still deduplicates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace recall {

// Defaults, and why:
// - avg 64 KiB: the catalog keeps one location row per chunk, so 1 TiB of unique data is
//   ~16M rows; smaller chunks find slightly more duplicates but multiply catalog size, SHA-256
//   and per-block header cost, and give zstd less context to compress with.
// - min 16 KiB (avg/4): no cut is even considered before it, which skips hashing a quarter of
//   the bytes and avoids runs of tiny chunks in low-entropy data.
// - max 256 KiB (avg*4): bounds the buffer callers must provide and the chunk size where the
//   content never produces a cut (long runs of one byte); it also matches the 256 KiB
//   superblocks tape streams were built around.
// Changing any of these (or the gear table) moves every boundary and so breaks dedup against
// data already stored: treat them as part of the on-disk format.
struct ChunkerParams {
  std::size_t min = 16 * 1024;
  std::size_t avg = 64 * 1024;
  std::size_t max = 256 * 1024;
};

class Chunker {
 public:
  // Out-of-range parameters are clamped: 64 <= min <= avg <= max <= 64 MiB.
  explicit Chunker(ChunkerParams params = {});

  // Length of the first chunk of `data`: always in [1, data.size()] for non-empty data (0 for
  // empty), at least min unless data is shorter, at most max. Callers pass at least `max`
  // bytes unless they are at the end of the input, otherwise the cut is just "all of data".
  std::size_t cut(std::span<const std::uint8_t> data) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  std::uint64_t mask_small_;  // more bits: harder to match before avg
  std::uint64_t mask_large_;  // fewer bits: easier to match after avg
};

}  // namespace recall
