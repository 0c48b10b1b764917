// Search by file name: FTS5 trigram index for substrings of 3+ characters, a scan of the
// (deduplicated) name table for shorter text and glob patterns. Ranked exact name first,
// then name prefix, then substring; newest first within each; paged. Only hits the caller
// may restore are returned or counted.
#include <algorithm>
#include <cctype>

#include "catalogd/service/catalog_view.h"
#include "catalogd/store/schema.h"
#include "common/paths.h"

namespace recall::service {
namespace {

std::string fold(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has_glob(std::string_view q) { return q.find_first_of("*?[") != std::string_view::npos; }

std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// FTS5 string literal: the whole query is one phrase, so operators in it mean nothing.
std::string fts_phrase(std::string_view q) {
  std::string out = "\"";
  for (char c : q) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string like_pattern(std::string_view q) {
  std::string out = "%";
  for (char c : q) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

struct Candidate {
  std::int64_t host_id;
  std::string name;
  store::VersionRow v;
  int match;
  UnixTime last_at;
  std::int64_t last_seq;
};

}  // namespace

Result<SearchResult> CatalogView::search(const SearchQuery& q) {
  SearchResult res;
  std::string text = q.text;
  if (text.empty()) return make_error(ErrorKind::Invalid, "search needs some text, e.g. recall search report");
  if (text.size() > 1024) return make_error(ErrorKind::Invalid, "search text is longer than 1024 bytes");
  if (text.find('\0') != std::string::npos) return make_error(ErrorKind::Invalid, "search text contains a NUL byte");

  // "dir/name" searches names for the last part and keeps hits whose path contains it all.
  std::string path_filter;
  if (auto slash = text.rfind('/'); slash != std::string::npos) {
    path_filter = fold(text);
    text = text.substr(slash + 1);
    if (text.empty()) return make_error(ErrorKind::Invalid, "search text must not end with '/'");
  }
  std::string folded = fold(text);

  std::int64_t host_filter = 0;
  if (!q.host.empty()) {
    auto h = host(q.host);
    if (!h.ok()) return h.error();
    host_filter = h->id;
  }

  constexpr const char* kSelect =
      "SELECT n.host_id, m.name, " RECALL_VERSION_COLUMNS
      " FROM names m JOIN nodes n ON n.name_id = m.id JOIN versions v ON v.node_id = n.id WHERE ";
  std::string sql = kSelect;
  std::string arg;
  if (has_glob(text)) {
    res.mode = "glob";
    sql += "m.name GLOB ?1";
    arg = text;
  } else if (utf8_chars(text) >= 3) {
    res.mode = "substring";
    sql += "m.id IN (SELECT rowid FROM names_fts WHERE names_fts MATCH ?1)";
    arg = fts_phrase(text);
  } else {
    res.mode = "short";
    sql += "m.name LIKE ?1 ESCAPE '\\'";
    arg = like_pattern(text);
  }
  if (!path_filter.empty()) res.mode = "path";
  sql += " AND (?2 = 0 OR n.host_id = ?2)";
  auto st = r_.db().prepare(sql);
  if (!st.ok()) return st.error();
  st->bind(1, arg).bind(2, host_filter);

  std::vector<Candidate> cands;
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    Candidate c{st->i64(0), st->text(1), store::read_version(*st, 2), 2, 0, 0};
    if (q.type && c.v.meta.type != *q.type) continue;
    std::string fname = fold(c.name);
    c.match = fname == folded ? 0 : fname.rfind(folded, 0) == 0 ? 1 : 2;
    if (res.mode == "glob") c.match = 2;
    auto pts = host_points(c.host_id);
    if (!pts.ok()) return pts.error();
    c.last_seq = std::min<std::int64_t>(c.v.to_seq, static_cast<std::int64_t>((*pts)->size()));
    c.last_at = (*pts)->empty() ? 0 : (*pts)->at(static_cast<std::size_t>(c.last_seq - 1)).at;
    cands.push_back(std::move(c));
  }
  std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    if (a.match != b.match) return a.match < b.match;
    if (a.last_at != b.last_at) return a.last_at > b.last_at;
    if (a.name != b.name) return a.name < b.name;
    return a.v.id < b.v.id;
  });

  // Judging access costs a few cached look-ups per hit; past this many the total is estimated.
  constexpr std::size_t kMaxJudged = 20000;
  std::size_t judged = 0, allowed = 0;
  for (auto& c : cands) {
    if (judged >= kMaxJudged && allowed >= q.offset + q.limit) {
      res.total_is_estimate = true;
      res.total = allowed + (cands.size() - judged) * allowed / std::max<std::size_t>(judged, 1);
      break;
    }
    ++judged;
    std::int64_t seq = c.last_seq;
    bool ok = true;
    if (!who_.is_root()) {
      auto m = may(c.v.node_id, c.v.meta, seq, kRead);
      if (!m.ok()) return m.error();
      if (!*m && c.v.from_seq != seq) {
        seq = c.v.from_seq;
        m = may(c.v.node_id, c.v.meta, seq, kRead);
        if (!m.ok()) return m.error();
      }
      ok = *m;
    }
    if (!ok) continue;
    std::string path;
    bool in_page = allowed >= q.offset && allowed < q.offset + q.limit;
    if (!path_filter.empty() || in_page) {
      auto p = r_.node_path(c.v.node_id);
      if (!p.ok()) return p.error();
      path = std::move(*p);
      if (!path_filter.empty() && fold(path).find(path_filter) == std::string::npos) continue;
    }
    if (in_page) {
      auto pts = host_points(c.host_id);
      if (!pts.ok()) return pts.error();
      auto hn = host_names_.find(c.host_id);
      if (hn == host_names_.end()) {
        auto hosts_list = r_.hosts();
        if (!hosts_list.ok()) return hosts_list.error();
        for (const auto& h : *hosts_list) host_names_[h.id] = h.name;
        hn = host_names_.find(c.host_id);
      }
      SearchHit hit;
      hit.host = hn == host_names_.end() ? "" : hn->second;
      hit.path = std::move(path);
      hit.name = c.name;
      hit.at = (*pts)->at(static_cast<std::size_t>(seq - 1)).at;
      hit.first_at = (*pts)->at(static_cast<std::size_t>(c.v.from_seq - 1)).at;
      hit.match = c.match;
      hit.version = std::move(c.v);
      res.hits.push_back(std::move(hit));
    }
    ++allowed;
  }
  if (!res.total_is_estimate) res.total = allowed;
  return res;
}

}  // namespace recall::service
