// Decoding restic's stored objects once their envelope is read: unpacked files (config,
// snapshots, index: JSON, zstd-compressed behind a 0x02 byte in format v2) and pack blobs
// (optionally a zstd frame), each checked against its ID (SHA-256 of the plain bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sha256.h"
#include "restic/crypto.h"

namespace recall::restic {

// Restic's tree blobs are unbounded but a file's data blobs are at most 8 MiB; nothing here
// decompresses past this (a hostile frame claiming terabytes).
inline constexpr std::size_t kMaxDecoded = std::size_t{1} << 30;

// The JSON text of an unpacked file's plaintext: v1 as is; v2 by its first byte ('{' or '[':
// plain JSON, 0x02: a zstd frame). `config` is never compressed.
Result<std::string> unpacked_json(std::vector<std::uint8_t> plain, int repo_version);

// One zstd frame, with or without a content size, into at most `limit` bytes.
Result<std::vector<std::uint8_t>> zstd_decompress(std::span<const std::uint8_t> frame, std::size_t limit);

// A blob's plain bytes from its envelope: authenticated, decrypted, decompressed when
// `uncompressed_length` is set (non-zero), and its SHA-256 checked against `id`. Corrupt otherwise.
Result<std::vector<std::uint8_t>> decode_blob(const Key& key, std::span<const std::uint8_t> envelope,
                                              std::uint32_t uncompressed_length, const Digest& id);

}  // namespace recall::restic
