// The self-describing volume format shared by disk-pool volumes and tape cartridges.
// Byte layout, checksums and the append/torn-tail rules: docs/volume-format.md.
//
// A volume is a sequence of blocks; each block is an 80-byte header followed by its payload.
// Block 0 is the label; every chunk is one block; an optional end block seals the volume.
// Everything a catalog needs about a chunk (identity, codec, lengths, volser, block number) is
// in its header, so a catalog can be rebuilt by scanning volumes alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"

namespace recall::tape {

inline constexpr char kBlockMagic[4] = {'R', 'C', 'L', 'B'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 80;
inline constexpr std::size_t kVolserSize = 8;
// No chunker produces more than 256 KiB; the limit only bounds what a reader will allocate
// for a header it has not verified yet (a hostile or garbled length).
inline constexpr std::uint32_t kMaxPlainBytes = 64u << 20;
inline constexpr std::size_t kLabelPayloadSize = 32;
inline constexpr char kLabelSignature[8] = {'r', 'e', 'c', 'a', 'l', 'l', '\0', '\0'};

enum class BlockType : std::uint8_t { Label = 1, Chunk = 2, End = 3 };
enum class Codec : std::uint8_t { None = 0, Zstd = 1 };

const char* to_string(BlockType type);
const char* to_string(Codec codec);

// The decoded header of one block.
struct BlockHeader {
  std::uint16_t version = kFormatVersion;
  BlockType type = BlockType::Chunk;
  Codec codec = Codec::None;
  std::string volser;  // without the space padding
  std::uint64_t block_no = 0;
  std::uint32_t payload_length = 0;  // bytes stored after the header
  std::uint32_t plain_length = 0;    // bytes after decompression
  Digest plain_sha{};                // SHA-256 of the plain bytes: the chunk's identity
  std::uint32_t crc = 0;             // zlib crc32 over header (crc field zeroed) + payload
};

// Where a chunk was written: what the catalog stores as its location on this volume.
struct BlockRef {
  std::uint64_t block_no = 0;
  std::uint64_t offset = 0;         // of the header, from the start of the volume
  std::uint32_t length = 0;         // header + payload bytes
  std::uint32_t stored_length = 0;  // payload bytes
  Codec codec = Codec::None;
};

// A chunk compressed ahead of time (e.g. in a worker thread), ready to append.
struct CompressedChunk {
  Codec codec = Codec::None;
  std::uint32_t plain_length = 0;
  std::vector<std::uint8_t> payload;
};

// The label block's payload.
struct VolumeLabel {
  std::string volser;
  std::uint16_t format_version = kFormatVersion;
  std::int64_t created = 0;  // Unix seconds, UTC
};

// A volser is 1-8 printable ASCII characters without spaces ("D000001", "R00042").
Status check_volser(std::string_view volser);

// Serializes `h` into exactly kHeaderSize bytes with the crc field as given.
void encode_header(const BlockHeader& h, std::uint8_t* out);
// Parses and checks everything that can be checked without the payload (magic, version,
// type, codec, reserved bytes, volser characters, length limits and their relations).
// On failure the error message is just the reason; callers prefix volume and offset.
Result<BlockHeader> decode_header(const std::uint8_t* in);

// CRC32 of `header` (kHeaderSize bytes; its crc field is treated as zero) followed by `payload`.
std::uint32_t block_crc(const std::uint8_t* header, std::span<const std::uint8_t> payload);

std::vector<std::uint8_t> encode_label(const VolumeLabel& label);
Result<VolumeLabel> decode_label(std::span<const std::uint8_t> payload);

// Compresses with zstd at `level`; stores raw (Codec::None) when that is not smaller.
// Never fails: a zstd error also falls back to raw. Uses a per-thread zstd context, so it is
// safe (and meant) to call from many worker threads at once.
CompressedChunk compress_chunk(std::span<const std::uint8_t> plain, int level);
// The same without copying raw chunks: returns Codec::Zstd with the frame in `out`, or
// Codec::None, in which case the payload is `plain` itself and `out` holds nothing useful.
Codec compress_into(std::span<const std::uint8_t> plain, int level, std::vector<std::uint8_t>& out);

// Decompresses a verified payload into exactly `plain_length` bytes (no more is ever
// allocated or written); a payload that does not decode to that size is an error message.
Result<std::vector<std::uint8_t>> decompress_payload(Codec codec, std::span<const std::uint8_t> payload,
                                                     std::uint32_t plain_length);

// Appends one whole block to `out`: its header (CRC filled in), then `payload`. The one encoder
// behind disk volumes, tape records and the staging cache.
void append_block_bytes(std::vector<std::uint8_t>& out, BlockType type, Codec codec, std::string_view volser,
                        std::uint64_t block_no, std::uint32_t plain_length, const Digest& plain_sha,
                        std::span<const std::uint8_t> payload);

// Checks a chunk block read whole (its 80 header bytes and payload) against what its location
// says it holds: header rules, type chunk, volser, payload length, CRC32, and a header SHA-256
// equal to `expected`. On failure the message is just the reason; callers name the place.
Result<BlockHeader> check_chunk_block(const std::uint8_t* header, std::span<const std::uint8_t> payload,
                                      std::string_view volser, const Digest& expected);
// The plain bytes of a block check_chunk_block() accepted: decompressed into exactly the header's
// plain length, then SHA-256(plain) compared with the chunk id (the CRC catches media damage, this
// catches everything else: a writer bug, a wrong codec).
Result<std::vector<std::uint8_t>> chunk_plain(const BlockHeader& header, std::vector<std::uint8_t> payload);
// Both, for a block held in one buffer (read from tape, or kept in the staging cache).
Result<std::vector<std::uint8_t>> decode_chunk_block(std::span<const std::uint8_t> block,
                                                     std::string_view volser, const Digest& expected);

// "volume D000001 (/pool/D000001.vol): block 17 at offset 4096: <reason>"
std::string block_context(const std::string& volser, const std::string& path, std::uint64_t offset,
                          std::int64_t block_no = -1);

}  // namespace recall::tape
