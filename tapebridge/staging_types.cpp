#include "tapebridge/staging_types.h"

#include <cmath>

namespace recall::tape {
namespace {

std::string ordinal(std::size_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

}  // namespace

std::string about_duration(double seconds) {
  if (seconds < 0) return "";
  if (seconds < 1) return "less than a second";
  if (seconds < 90) return "about " + std::to_string(static_cast<long>(std::lround(seconds))) + " s";
  if (seconds < 90 * 60)
    return "about " + std::to_string(static_cast<long>(std::lround(seconds / 60))) + " min";
  return "about " + std::to_string(static_cast<long>(std::lround(seconds / 3600))) + " h";
}

const char* to_string(Priority p) {
  switch (p) {
    case Priority::Interactive:
      return "interactive";
    case Priority::Restore:
      return "restore";
    case Priority::Prefetch:
      return "prefetch";
  }
  return "restore";
}

std::optional<Priority> priority_from_name(std::string_view name) {
  if (name == "interactive") return Priority::Interactive;
  if (name == "restore") return Priority::Restore;
  if (name == "prefetch") return Priority::Prefetch;
  return std::nullopt;
}

std::string RequestStatus::words() const {
  const std::string tape = "tape " + cartridge;
  const std::string in_drive = drive >= 0 ? " in drive " + std::to_string(drive) : "";
  const std::string eta = about_duration(eta_s);
  const std::string tail = eta.empty() ? "" : ", " + eta;
  if (state == "done") return "Staged: ready to read";
  if (state == "failed") return "Failed: " + error;
  if (state == "cancelled") return "Cancelled";
  if (state == "waiting for operator")
    return "Waiting for an operator to bring " + tape + " back into the library (it is off-site)";
  if (state == "mounting") return "Mounting " + tape + in_drive + tail;
  if (state == "positioning") return "Positioning " + tape + in_drive + tail;
  if (state == "reading") {
    const int pct = bytes ? static_cast<int>(100 * bytes_done / bytes) : 0;
    return "Reading " + tape + in_drive + " \u2014 " + std::to_string(pct) + "% staged" + tail;
  }
  if (position > 0) return "Waiting for " + tape + " \u2014 " + ordinal(position) + " in queue" + tail;
  return "Waiting for " + tape + in_drive + tail;
}

nlohmann::json RequestStatus::to_json() const {
  return {{"id", id},
          {"user", who.user},
          {"uid", who.uid},
          {"priority", to_string(priority)},
          {"what", what},
          {"tag", tag},
          {"state", state},
          {"cartridge", cartridge},
          {"drive", drive},
          {"position", position},
          {"eta_s", eta_s},
          {"eta_model_s", eta_model_s},
          {"waited_s", waited_s},
          {"chunks", chunks},
          {"chunks_done", chunks_done},
          {"bytes", bytes},
          {"bytes_done", bytes_done},
          {"cartridges", cartridges},
          {"error", error},
          {"words", words()}};
}

nlohmann::json DriveStatus::to_json() const {
  return {{"drive", drive},
          {"activity", activity},
          {"cartridge", cartridge},
          {"position", position},
          {"lent_to", lent_to},
          {"mounts", counters.mounts},
          {"unmounts", counters.unmounts},
          {"locates", counters.locates},
          {"records_read", counters.records_read},
          {"records_written", counters.records_written},
          {"busy_model_s", counters.busy_s}};
}

nlohmann::json StageEstimate::to_json() const {
  nlohmann::json carts = nlohmann::json::array();
  for (const auto& c : cartridges)
    carts.push_back({{"volser", c.volser},
                     {"in_library", c.in_library},
                     {"chunks", c.chunks},
                     {"bytes", c.bytes},
                     {"pass_model_s", c.pass_model_s}});
  return {{"cartridges", carts},
          {"chunks", chunks},
          {"bytes", bytes},
          {"drives", drives},
          {"lower_bound_model_s", lower_bound_model_s},
          {"lower_bound_s", lower_bound_s},
          {"needs_operator", needs_operator}};
}

}  // namespace recall::tape
