// `recall import tar`: records a tar archive (POSIX ustar, pax, GNU) as a point of a host.
// An uncompressed archive is not rewritten: it is registered as a volume of kind 'archive' and
// each member's bytes are referenced by their offset in it (read in place, SHA-256 checked on
// every read). Compressed archives (gzip, bzip2, xz, zstd) cannot be read by offset; their
// members are chunked into the disk pool. Sparse members always are (holes are not in the file).
// A GNU --listed-incremental archive (its directories carry dumpdirs) is applied to the host's
// newest point: unchanged files stay, files not listed are deleted, renamed directories move.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "catalogd/store/sqlite.h"
#include "common/time.h"
#include "importers/chunker.h"
#include "importers/import_progress.h"

namespace recall::import {

struct TarImportOptions {
  std::string host;
  UnixTime at = 0;           // 0: the archive file's modification time
  std::string archive;       // absolute path on this machine
  std::string prefix = "/";  // where members go in the point: data/x -> PREFIX/data/x
  std::string pool_dir;
  int zstd_level = 3;
  ChunkerParams chunker;
};

struct TarImportReport {
  std::string host, archive, volser;
  UnixTime at = 0;
  std::string kind;               // full | incremental
  std::string compression;        // none | gzip | xz | ...
  bool in_place = false;          // members referenced by offset in the archive
  bool already_imported = false;  // the same bytes were imported before: nothing was done
  std::string already_as;         // "host at TIME" of that import
  std::int64_t seq = 0;
  std::uint64_t members = 0, entries = 0, changed = 0, unchanged = 0, deleted = 0;
  std::uint64_t bytes_total = 0, archive_bytes = 0, referenced_bytes = 0, new_bytes = 0, stored_bytes = 0;
  double seconds = 0;
  std::vector<std::string> warnings;
};

// One transaction: the point is visible when this returns OK; on any error, on cancel or on a
// hostile member (a '..' component, a name over 4096 bytes, a member below a symlink) the
// catalog is as before and the error names the archive and the member.
Result<TarImportReport> import_tar(store::Db& db, const TarImportOptions& options, ImportProgress& progress,
                                   const std::atomic<bool>& cancel);

}  // namespace recall::import
