#include "catalogd/daemon/tape_views.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/time.h"

namespace recall::daemon {
namespace {

Result<nlohmann::json> sets_json(store::Db& db, std::int64_t volume_id) {
  auto sets = store::sets_on_volume(db, volume_id);
  if (!sets.ok()) return sets.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *sets)
    out.push_back({{"host", s.host}, {"at", s.at ? format_utc(s.at) : ""}, {"set", s.set_id}});
  return out;
}

}  // namespace

std::string describe_copy(const store::StoredCopy& copy, const TapeService* tape) {
  if (copy.in_archive()) return "archive " + copy.volser + " (" + copy.volume_path + ", " + copy.volume_state + ")";
  if (copy.on_disk()) return "disk " + copy.volser + " (" + copy.volume_state + ")";
  std::string s = "tape " + copy.volser + " copy " + std::to_string(copy.copy);
  if (tape) s += ", " + tape->where(copy.volser);
  return s;
}

nlohmann::json location_json(const std::vector<store::ChunkLocation>& chunks, const TapeService* tape) {
  bool tape_needed = false, offsite = false, missing = false;
  std::set<std::string> carts;
  for (const auto& ch : chunks) {
    if (std::any_of(ch.copies.begin(), ch.copies.end(), [](const auto& c) { return c.on_disk(); })) continue;
    if (ch.copies.empty()) {
      missing = true;
      continue;
    }
    tape_needed = true;
    bool reachable = false;
    for (const auto& c : ch.copies) {
      const bool away = tape && tape->where(c.volser) == "off-site";
      if (!away) reachable = true;
      carts.insert(c.volser);
    }
    if (!reachable) offsite = true;
  }
  std::string lives = missing ? "none" : offsite ? "offsite" : tape_needed ? "tape" : "disk";
  std::string words;
  if (lives == "disk") words = "disk";
  if (lives == "none") words = "unavailable: no copy of some of its data";
  if (tape_needed && !missing) {
    words = carts.size() == 1 ? "tape " : "tapes ";
    std::size_t n = 0;
    for (const auto& v : carts) words += (n++ ? ", " : "") + v;
    words += offsite ? " (off-site: an operator must bring it back)" : " (in the library)";
  }
  return {{"lives", lives}, {"cartridges", carts}, {"words", words}};
}

nlohmann::json drives_json(TapeService& tape) {
  nlohmann::json drives = nlohmann::json::array();
  for (const auto& d : tape.scheduler().drives()) drives.push_back(d.to_json());
  return drives;
}

nlohmann::json operator_requests_json(TapeService& tape) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& r : tape.library().operator_requests())
    ops.push_back({{"id", r.id},
                   {"volser", r.volser},
                   {"action", r.action},
                   {"reason", r.reason},
                   {"raised", format_utc(r.raised)}});
  return ops;
}

Result<nlohmann::json> volumes_json(store::Db& db, TapeService* tape) {
  auto rows = store::list_volumes(db);
  if (!rows.ok()) return rows.error();
  std::map<std::string, const store::VolumeRow*> by_volser;
  nlohmann::json disk = nlohmann::json::array();
  for (const auto& v : *rows) {
    by_volser[v.volser] = &v;
    if (v.kind != "disk") continue;
    auto sets = sets_json(db, v.id);
    if (!sets.ok()) return sets.error();
    disk.push_back({{"volser", v.volser},
                    {"state", v.state},
                    {"bytes", v.bytes},
                    {"chunks", v.chunks},
                    {"chunk_bytes", v.chunk_bytes},
                    {"created", format_utc(v.created)},
                    {"path", v.path},
                    {"sets", *sets}});
  }
  nlohmann::json out = {{"disk", disk}};
  if (!tape) {
    out["library"] = nullptr;
    return out;
  }
  const auto& lc = tape->library().config();
  nlohmann::json carts = nlohmann::json::array();
  for (const auto& c : tape->library().cartridges()) {
    nlohmann::json j = tape::Library::to_json(c);
    j["where"] = tape->where(c.volser);
    const std::uint64_t used = c.bytes_used();
    j["bytes_used"] = used;
    j["fill"] = c.capacity_bytes ? static_cast<double>(used) / static_cast<double>(c.capacity_bytes) : 0.0;
    j["chunks"] = 0;
    j["chunk_bytes"] = 0;
    j["sets"] = nlohmann::json::array();
    if (auto it = by_volser.find(c.volser); it != by_volser.end()) {
      j["chunks"] = it->second->chunks;
      j["chunk_bytes"] = it->second->chunk_bytes;
      j["committed_bytes"] = it->second->bytes;
      auto sets = sets_json(db, it->second->id);
      if (!sets.ok()) return sets.error();
      j["sets"] = *sets;
    }
    carts.push_back(std::move(j));
  }
  out["library"] = {{"drives", lc.drives},
                    {"slots", lc.slots},
                    {"free_slots", tape->library().free_slots()},
                    {"media", lc.timing.media},
                    {"capacity_bytes", lc.timing.capacity_bytes},
                    {"time_scale", tape->backend().clock().scale()},
                    {"scheduler", tape->config().scheduler}};
  out["cartridges"] = carts;
  out["drives"] = drives_json(*tape);
  out["operator_requests"] = operator_requests_json(*tape);
  return out;
}

}  // namespace recall::daemon
