// How catalog rows look on the wire (HTTP API v1). Names and paths are JSON strings when they
// are valid UTF-8; otherwise "name"/"path" hold a display form with \xNN escapes and
// "name_raw"/"path_raw" the exact bytes percent-encoded, so clients can restore them exactly.
#pragma once

#include <nlohmann/json.hpp>

#include "catalogd/service/catalog_view.h"
#include "catalogd/store/rows.h"

namespace recall::daemon {

const char* type_name(FileType t);
std::optional<FileType> type_from_name(std::string_view name);
// Adds key (and key_raw when needed) to `j`.
void put_bytes(nlohmann::json& j, const char* key, const std::string& bytes);

nlohmann::json meta_json(const FileMeta& m);
nlohmann::json host_json(const store::HostRow& h);
nlohmann::json point_json(const store::PointRow& p, const std::string& host);
nlohmann::json entry_json(const service::ListedEntry& e, const std::string& dir_path);
nlohmann::json version_json(const service::VersionInfo& v);
nlohmann::json hit_json(const service::SearchHit& h);

}  // namespace recall::daemon
