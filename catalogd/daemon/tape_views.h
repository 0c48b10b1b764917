// How the tape bridge looks on the wire and in words: volumes and cartridges for `recall volumes`,
// where a stored copy is, and the staging state of a file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalogd/daemon/tape_service.h"
#include "catalogd/store/volume_catalog.h"

namespace recall::daemon {

// "disk D000001 (online)", "tape R00003 copy 1, in the library (slot 2)", "tape R00007 copy 2, off-site".
std::string describe_copy(const store::StoredCopy& copy, const TapeService* tape);

// Where a file's bytes live, for search hits and the browser's "Where" column:
// {"lives":"disk"|"tape"|"offsite"|"none","cartridges":[...],"words":"..."}. "tape" when some chunk
// has no disk copy but a copy in the library; "offsite" when some chunk has copies only off-site.
nlohmann::json location_json(const std::vector<store::ChunkLocation>& chunks, const TapeService* tape);

// The drives, and the operator's requests (for /v1/volumes and an admin's /v1/queue).
nlohmann::json drives_json(TapeService& tape);
nlohmann::json operator_requests_json(TapeService& tape);

// GET /v1/volumes: the library, its cartridges (state, place, fill, backup sets), the disk pool's
// volumes, the drives and the operator's requests.
Result<nlohmann::json> volumes_json(store::Db& db, TapeService* tape);

}  // namespace recall::daemon
