#include "gui/formatting.h"

#include <QCoreApplication>
#include <QLocale>
#include <algorithm>
#include <cmath>

namespace recall::gui {
namespace {
QString tr(const char* s) { return QCoreApplication::translate("recall::gui", s); }
}  // namespace

QString human_size(std::uint64_t bytes) {
  if (bytes == 1) return tr("1 byte");
  if (bytes < 1000) return tr("%1 bytes").arg(bytes);
  return QLocale().formattedDataSize(static_cast<qint64>(bytes), 1, QLocale::DataSizeSIFormat);
}

QDateTime parse_utc(const std::string& iso) {
  if (iso.empty()) return {};
  auto t = QDateTime::fromString(QString::fromStdString(iso), Qt::ISODate);
  t.setTimeSpec(Qt::UTC);
  return t;
}

QString display_time(const std::string& iso) {
  auto t = parse_utc(iso);
  if (!t.isValid()) return {};
  return QLocale().toString(t.toLocalTime(), QStringLiteral("ddd d MMM yyyy HH:mm"));
}

QString display_mtime(std::int64_t mtime_ns) {
  auto t = QDateTime::fromMSecsSinceEpoch(mtime_ns / 1000000, Qt::UTC);
  return QLocale().toString(t.toLocalTime(), QStringLiteral("ddd d MMM yyyy HH:mm"));
}

std::string iso_utc(const QDateTime& t) { return t.toUTC().toString(Qt::ISODate).toStdString(); }

QString about_duration(double s) {
  if (s < 90) return tr("about %1 s").arg(std::max(1, static_cast<int>(std::lround(s))));
  if (s < 90 * 60) return tr("about %1 min").arg(static_cast<int>(std::lround(s / 60)));
  return tr("about %1 h").arg(QLocale().toString(s / 3600, 'f', 1));
}

QString where_text(const nlohmann::json& where) {
  if (!where.is_object()) return {};
  const std::string lives = where.value("lives", "");
  QStringList carts;
  for (const auto& c : where.value("cartridges", nlohmann::json::array()))
    carts << QString::fromStdString(c.get<std::string>());
  if (lives == "disk") return tr("On disk");
  if (lives == "tape") return tr("Tape %1 (in the library)").arg(carts.join(", "));
  if (lives == "offsite") return tr("Tape %1 (off-site)").arg(carts.join(", "));
  if (lives == "none") return tr("Unavailable");
  return {};
}

QString where_icon_name(const nlohmann::json& where) {
  const std::string lives = where.is_object() ? where.value("lives", "") : "";
  if (lives == "disk") return "disk";
  if (lives == "tape") return "tape";
  if (lives == "offsite") return "offsite";
  if (lives == "none") return "unavailable";
  return {};
}

QString type_icon_name(const std::string& type) {
  if (type == "dir") return "folder";
  if (type == "symlink") return "link";
  return "file";
}

QIcon icon(const QString& name) {
  if (name.isEmpty()) return {};
  return QIcon(QStringLiteral(":/icons/%1.svg").arg(name));
}

QString describe_change(const nlohmann::json* older, const nlohmann::json& newer) {
  if (!older) return tr("First backup of this file");
  if (older->value("type", "") != newer.value("type", "")) return tr("Replaced by a different kind of item");
  QStringList parts;
  const auto before = older->value("size", 0ull), after = newer.value("size", 0ull);
  if (older->value("sha256", "") != newer.value("sha256", "")) {
    if (after > before)
      parts << tr("Contents changed (%1 larger)").arg(human_size(after - before));
    else if (after < before)
      parts << tr("Contents changed (%1 smaller)").arg(human_size(before - after));
    else
      parts << tr("Contents changed (same size)");
  }
  if (older->value("mode", 0u) != newer.value("mode", 0u)) parts << tr("permissions changed");
  if (older->value("user", "") != newer.value("user", "") ||
      older->value("group", "") != newer.value("group", ""))
    parts << tr("owner changed");
  if (parts.isEmpty()) {
    if (older->value("mtime_ns", std::int64_t{0}) != newer.value("mtime_ns", std::int64_t{0}))
      return tr("Saved again, same contents");
    return tr("Details changed");
  }
  parts[0][0] = parts[0][0].toUpper();
  return parts.join(", ");
}

void CostEstimate::add(const nlohmann::json& e) {
  files += e.value("files", 0ull);
  bytes += e.value("bytes", 0ull);
  tape_bytes += e.value("tape_bytes", 0ull);
  staged_bytes += e.value("staged_bytes", 0ull);
  for (const auto& c : e.value("cartridges", nlohmann::json::array())) {
    std::string v = c.value("volser", "");
    if (std::find(cartridges.begin(), cartridges.end(), v) == cartridges.end()) cartridges.push_back(v);
  }
  eta_s += e.value("eta_s", 0.0);  // estimates asked one after another: the sum is an upper bound
  needs_operator = needs_operator || e.value("needs_operator", false);
}

QString cost_hint(const CostEstimate& e) {
  QString s = (e.files == 1 ? tr("1 file") : tr("%1 files").arg(e.files)) + ", " + human_size(e.bytes);
  if (e.cartridges.empty())
    return s + (e.staged_bytes ? tr(", already fetched from tape: ready right away")
                               : tr(", all on disk: ready right away"));
  s += ", " + (e.cartridges.size() == 1 ? tr("1 tape") : tr("%1 tapes").arg(e.cartridges.size()));
  s += ", " + about_duration(e.eta_s);
  if (e.needs_operator) s += tr(" once an operator brings back the tapes that are off-site");
  return s;
}

}  // namespace recall::gui
