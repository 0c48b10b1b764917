// Words and icons for what the catalog says: sizes, times, where bytes live, what changed
// between two versions, and the cost hint shown before a restore. Pure functions (tested).
#pragma once

#include <QDateTime>
#include <QIcon>
#include <QString>
#include <nlohmann/json.hpp>
#include <string>

namespace recall::gui {

QString human_size(std::uint64_t bytes);       // "412 MB" (SI units, as file managers show)
QDateTime parse_utc(const std::string& iso);   // "2026-12-01T14:03:00Z"; invalid when empty
QString display_time(const std::string& iso);  // local time: "Tue 1 Dec 2026 14:03"
QString display_mtime(std::int64_t mtime_ns);
std::string iso_utc(const QDateTime& t);  // for the API
QString about_duration(double seconds);   // "about 40 s", "about 14 min", "about 2 h"

// A search hit's or stat's "where": {"lives":"disk|tape|offsite|none","cartridges":[...]}.
QString where_text(const nlohmann::json& where);
QString where_icon_name(const nlohmann::json& where);
QString type_icon_name(const std::string& type);  // "folder", "file", "link"
QIcon icon(const QString& name);                  // from icons/ (compiled in)

// What changed from `older` to `newer` (two /v1/versions entries), in a few words.
QString describe_change(const nlohmann::json* older, const nlohmann::json& newer);

// The totals of one or more POST /v1/estimate answers.
struct CostEstimate {
  std::uint64_t files = 0, bytes = 0, tape_bytes = 0, staged_bytes = 0;
  std::vector<std::string> cartridges;
  double eta_s = 0;
  bool needs_operator = false;
  void add(const nlohmann::json& estimate);
};
// "3 files, 412 MB, 2 tapes, about 14 min", or "3 files, 412 MB, all on disk: ready right away"
// (or "already fetched from tape" when recalld's staging cache holds what tapes held).
QString cost_hint(const CostEstimate& e);

}  // namespace recall::gui
