// GNU tar's dump lists in pax archives (`tar --format=posix --listed-incremental`): each
// directory's list is the value of the pax keyword GNU.dumpdir in its extended header, which
// libarchive drops (GNU-format archives keep it as the directory's data, which libarchive gives).
// This reads an archive's headers itself (formats.md §2.1-2.3, §2.6) and returns every
// GNU.dumpdir by the offset where its entry's headers begin in the (decompressed) stream: what
// libarchive's archive_read_header_position() says for that entry.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/result.h"

namespace recall::import {

using PaxDumpdirs = std::unordered_map<std::uint64_t, std::string>;

// Reads the archive at `path`: seeking over member data when it is not compressed, decompressing
// (through libarchive's filters) when it is. Invalid, naming the archive and the offset, for
// headers it cannot follow.
Result<PaxDumpdirs> read_pax_dumpdirs(const std::string& path, bool compressed);

// The same over the bytes of an uncompressed archive (for tests and fuzzing).
Result<PaxDumpdirs> read_pax_dumpdirs_from(std::string_view archive, const std::string& name);

}  // namespace recall::import
