// The Recall manifest (JSON Lines, version 1): a catalog exported from another product (Spectrum
// Protect, NetBackup, Bacula listings) as a header line, backup sets and their entries. This is
// the parser and validator only: bytes in, records out, every error naming the line. See
// docs/importers.md for the format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_meta.h"
#include "common/result.h"
#include "common/sha256.h"

namespace recall::import {

inline constexpr std::size_t kMaxManifestLine = 1u << 20;

struct ManifestLocation {
  int copy = 1;
  std::string volume;                   // barcode or label
  std::optional<std::uint64_t> offset;  // bytes from the start of the tape file or volume
  std::optional<std::uint64_t> length;  // stored bytes
  std::optional<std::uint64_t> file;    // tape file number
  std::string container = "raw";        // raw | tar | bacula | restic-pack | tsm | nbu | ...
  std::vector<std::string> transform;   // gzip, zstd, encrypted... (empty: the plain bytes)
};

struct ManifestEntry {
  std::size_t line = 0;
  std::string set;
  enum class State { Present, Unchanged, Deleted } state = State::Present;
  std::vector<std::string> parts;  // the path's components below '/' (empty: the root)
  FileMeta meta;
  bool has_mtime = false;
  std::string hardlink_to;  // a path of the same set, joined
  std::optional<Digest> sha256;
  std::vector<ManifestLocation> locations;
};

struct ManifestSet {
  std::size_t line = 0;
  std::string id, host, kind, parent, label;
  std::int64_t point_time_ns = 0;
};

struct ManifestHeader {
  std::string source, path_style = "posix";
  std::int64_t generated_ns = 0;
};

// One parsed line. Invalid errors say "line N: why".
struct ManifestLine {
  enum class Kind { Header, Set, Entry } kind = Kind::Entry;
  ManifestHeader header;
  ManifestSet set;
  ManifestEntry entry;
};
Result<ManifestLine> parse_manifest_line(std::string_view text, std::size_t line);

// A whole manifest, checked: the header first; set ids unique; a known parent for each
// incremental set, older than it, of the same host; entries of known sets, no path twice in a set.
struct Manifest {
  ManifestHeader header;
  std::vector<ManifestSet> sets;                              // in file order
  std::map<std::string, std::vector<ManifestEntry>> entries;  // by set id, in file order
};

// Feeds lines in order; finish() runs the checks that need the whole file.
class ManifestBuilder {
 public:
  Status add_line(std::string_view text);  // without the newline
  Result<Manifest> finish();
  std::size_t lines() const { return line_; }

 private:
  Manifest m_;
  std::size_t line_ = 0;
  bool have_header_ = false;
  std::map<std::string, std::size_t> set_index_;
};

}  // namespace recall::import
