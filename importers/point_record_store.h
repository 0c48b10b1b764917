// Point records between the catalog and the volumes: written by every import into the disk pool
// just before it commits, and read back by `recall scan` (volume_scan.h) to rebuild points.
#pragma once

#include <string>

#include "catalogd/store/catalog_writer.h"
#include "importers/chunk_store.h"
#include "importers/point_record.h"

namespace recall::import {

// The writer's new point as a record: its tree as the transaction now has it, each file's content
// hash, size and chunk list (or its gap), and the set's host, time, importer, kind and source.
Result<PointRecord> record_of_point(store::PointWriter& writer, const std::string& stats_json);

// Writes the record's parts as chunks through `chunks` (raw: the record is compressed already) and
// lists them in set_records. Returns the number of parts.
Result<int> store_point_record(store::PointWriter& writer, ChunkStore& chunks, const PointRecord& record);

}  // namespace recall::import
