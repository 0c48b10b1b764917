// DecompressedReader (importers/decompressed_reader.h) on arbitrary bytes: every format it sniffs
// (gzip, bzip2, xz, lzip, zstd, lz4) and libarchive's for the rest. It either reads the stream to
// its end or fails with Corrupt/Invalid/Io; drain() after a partial read agrees with a full read.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "common/unique_fd.h"
#include "importers/decompressed_reader.h"

namespace {

// The outcome of reading all of `fd` in pieces of `piece` bytes: ok, and how many bytes.
std::pair<bool, std::uint64_t> read_all(int fd, std::size_t piece) {
  if (::lseek(fd, 0, SEEK_SET) != 0) std::abort();
  auto r = recall::import::DecompressedReader::open(fd, "input");
  if (!r.ok()) return {false, 0};
  std::vector<std::uint8_t> buf(piece);
  std::uint64_t total = 0;
  for (;;) {
    auto n = (*r)->read(buf.data(), buf.size());
    if (!n.ok()) return {false, total};
    if (*n == 0) return {true, total};
    total += *n;
    if (total > (256u << 20)) return {true, total};  // a bomb: enough
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  recall::UniqueFd fd(::memfd_create("fuzz", MFD_CLOEXEC));
  if (!fd || ::write(fd.get(), data, size) != static_cast<ssize_t>(size)) std::abort();
  auto whole = read_all(fd.get(), 1 << 16);
  auto small = read_all(fd.get(), 7);  // piece size must not change the verdict or the bytes
  if (whole.first != small.first || (whole.first && whole.second != small.second)) std::abort();
  return 0;
}
