#include "importers/chunker.h"

#include <algorithm>
#include <array>
#include <bit>

namespace recall {
namespace {

// The gear table maps each byte to a random 64-bit value. It must never change (it defines
// every boundary ever stored), so it is generated from a fixed seed by splitmix64 at compile
// time instead of being a 256-line literal nobody can review.
constexpr std::array<std::uint64_t, 256> make_gear() {
  std::array<std::uint64_t, 256> table{};
  std::uint64_t state = 0x5265'6361'6c6c'4344ULL;  // "RecallCD"
  for (auto& v : table) {
    state += 0x9e37'79b9'7f4a'7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebULL;
    v = z ^ (z >> 31);
  }
  return table;
}
constexpr std::array<std::uint64_t, 256> kGear = make_gear();

// fp = (fp << 1) + gear[byte]: after 64 bytes the oldest byte has been shifted out, so the
// hash is a function of the last 64 bytes only. Its top bits mix the most bytes, so the masks
// take the top `bits` bits.
constexpr std::uint64_t top_bits(int bits) { return bits <= 0 ? 0 : ~std::uint64_t{0} << (64 - bits); }

constexpr std::size_t kWindow = 64;
constexpr std::size_t kMinFloor = kWindow;
constexpr std::size_t kMaxCeiling = 64u << 20;

// Normalized chunking, level 2: before `avg` a cut needs bits+2 zero bits (4x less likely than
// plain CDC), after it bits-2 (4x more likely). Chunk sizes cluster around avg, which keeps
// the distribution tight without a hard cut at avg that would hurt dedup.
constexpr int kNormalization = 2;

// Scans [i, end) for the first position whose hash has no bit of `mask` set; returns the
// chunk length (position + 1) or 0 if there is none. Unrolled by 4: the only branch per byte is
// the mask test, which almost never fires.
inline std::size_t scan(const std::uint8_t* p, std::size_t i, std::size_t end, std::uint64_t& fp,
                        std::uint64_t mask) {
  std::uint64_t h = fp;
  for (; i + 4 <= end; i += 4) {
    h = (h << 1) + kGear[p[i]];
    if (!(h & mask)) return i + 1;
    h = (h << 1) + kGear[p[i + 1]];
    if (!(h & mask)) return i + 2;
    h = (h << 1) + kGear[p[i + 2]];
    if (!(h & mask)) return i + 3;
    h = (h << 1) + kGear[p[i + 3]];
    if (!(h & mask)) return i + 4;
  }
  for (; i < end; ++i) {
    h = (h << 1) + kGear[p[i]];
    if (!(h & mask)) return i + 1;
  }
  fp = h;
  return 0;
}

}  // namespace

Chunker::Chunker(ChunkerParams params) {
  params.max = std::clamp(params.max, kMinFloor, kMaxCeiling);
  params.min = std::clamp(params.min, kMinFloor, params.max);
  params.avg = std::clamp(params.avg, params.min, params.max);
  params_ = params;
  const int bits = std::bit_width(params.avg) - 1;  // log2(avg), rounded down
  mask_small_ = top_bits(bits + kNormalization);
  mask_large_ = top_bits(bits - kNormalization);
}

std::size_t Chunker::cut(std::span<const std::uint8_t> data) const {
  const std::size_t n = std::min(data.size(), params_.max);
  if (n <= params_.min) return n;
  const std::size_t normal = std::min(params_.avg, n);
  const std::uint8_t* p = data.data();

  // Warm the hash over the 64 bytes before min so the hash at every candidate position depends
  // only on the content there, not on where this chunk started.
  std::uint64_t fp = 0;
  for (std::size_t i = params_.min - kWindow; i < params_.min; ++i) fp = (fp << 1) + kGear[p[i]];

  if (std::size_t c = scan(p, params_.min, normal, fp, mask_small_)) return c;
  if (std::size_t c = scan(p, normal, n, fp, mask_large_)) return c;
  return n;
}

}  // namespace recall
