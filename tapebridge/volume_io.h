// File helpers shared by the volume writer, reader and scanner (internal to tapebridge/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "tapebridge/volume_format.h"

namespace recall::tape {

Result<UniqueFd> open_volume_file(const std::string& path, int flags, int mode = 0);
Result<std::uint64_t> file_size(int fd, const std::string& path);

// Reads up to `n` bytes at `offset`, retrying short reads; returns fewer only at end of file.
Result<std::size_t> pread_full(int fd, void* buf, std::size_t n, std::uint64_t offset,
                               const std::string& path);
// Writes all `n` bytes at `offset`.
Status pwrite_full(int fd, const void* buf, std::size_t n, std::uint64_t offset, const std::string& path);

// Bytes of the label block (header + payload): where block 1 starts.
inline constexpr std::uint64_t kLabelBlockSize = kHeaderSize + kLabelPayloadSize;

// Reads and fully verifies block 0 (header, CRC, SHA-256, label fields). With a non-empty
// `expected_volser`, a label naming another volume is Corrupt.
Result<VolumeLabel> read_label_block(int fd, const std::string& path, const std::string& expected_volser);

}  // namespace recall::tape
