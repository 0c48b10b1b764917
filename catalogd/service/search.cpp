// Search by file name: FTS5 trigram index for substrings of 3+ characters, a scan of the
// (deduplicated) name table for shorter text and glob patterns. Ranked exact name first,
// then name prefix, then substring; newest first within each; paged. Only hits the caller
// may restore are returned or counted.
#include <algorithm>
#include <cctype>
#include <map>

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

struct MatchedName {
  std::int64_t id;
  std::string name;
  int match;  // 0 exact, 1 prefix, 2 substring or pattern
};

// Ranking needs only a few integers per version; full rows are read for the page alone
// (and, for callers other than root, for the hits that are judged).
struct Candidate {
  std::int64_t host_id, node_id, version_id, from_seq, to_seq;
  std::uint32_t name;  // index into the matched names
  int match;
  char type;
  UnixTime last_at;
  std::int64_t last_seq;
  std::uint64_t size;
  std::int64_t mtime_ns;
};

// The point count at or before `t`: the seq of the newest point not after it (0 for none).
std::int64_t seq_at_or_before(const std::vector<store::PointRow>& pts, UnixTime t) {
  auto it = std::upper_bound(pts.begin(), pts.end(), t,
                             [](UnixTime v, const store::PointRow& p) { return v < p.at; });
  return static_cast<std::int64_t>(it - pts.begin());
}

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : b < a ? 1 : 0;
}

}  // namespace

std::optional<SearchSort> search_sort_from_name(std::string_view name) {
  static const std::pair<std::string_view, SearchSort> names[] = {
      {"rank", SearchSort::Rank},        {"name", SearchSort::Name}, {"folder", SearchSort::Folder},
      {"host", SearchSort::Host},        {"at", SearchSort::At},     {"size", SearchSort::Size},
      {"modified", SearchSort::Modified}};
  for (const auto& [n, s] : names)
    if (n == name) return s;
  return std::nullopt;
}

Result<SearchResult> CatalogView::search(const SearchQuery& q) {
  SearchResult res;
  std::string text = q.text;
  if (text.empty())
    return make_error(ErrorKind::Invalid, "search needs some text, e.g. recall search report");
  if (text.size() > 1024) return make_error(ErrorKind::Invalid, "search text is longer than 1024 bytes");
  if (text.find('\0') != std::string::npos)
    return make_error(ErrorKind::Invalid, "search text contains a NUL byte");

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

  std::string sql = "SELECT m.id, m.name FROM names m WHERE ";
  std::string arg, unindexed_arg;
  if (has_glob(text)) {
    res.mode = "glob";
    sql += "m.name GLOB ?1";
    arg = text;
  } else if (utf8_chars(text) >= 3) {
    res.mode = "substring";
    // Names recorded since the index was last brought up to date are looked at directly.
    sql +=
        "(m.id IN (SELECT rowid FROM names_fts WHERE names_fts MATCH ?1) OR "
        "(m.id > (SELECT names_upto FROM search_index) AND m.name LIKE ?2 ESCAPE '\\'))";
    arg = fts_phrase(text);
    unindexed_arg = like_pattern(text);
  } else {
    res.mode = "short";
    sql += "m.name LIKE ?1 ESCAPE '\\'";
    arg = like_pattern(text);
  }
  if (!path_filter.empty()) res.mode = "path";
  std::vector<MatchedName> names;
  {
    auto st = r_.db().prepare(sql);
    if (!st.ok()) return st.error();
    st->bind(1, arg);
    if (!unindexed_arg.empty()) st->bind(2, unindexed_arg);
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      MatchedName m{st->i64(0), st->text(1), 2};
      std::string fname = fold(m.name);
      if (res.mode != "glob") m.match = fname == folded ? 0 : fname.rfind(folded, 0) == 0 ? 1 : 2;
      names.push_back(std::move(m));
    }
  }

  auto versions_q = r_.db().cached(
      "SELECT n.host_id, n.id, v.id, v.from_seq, v.to_seq, v.type, v.size, v.mtime_ns FROM nodes n "
      "JOIN versions v ON v.node_id = n.id WHERE n.name_id = ?1 AND (?2 = 0 OR n.host_id = ?2)");
  if (!versions_q.ok()) return versions_q.error();
  auto& vq = *versions_q;
  // A query as broad as '*' would otherwise hold every version in memory for one page.
  constexpr std::size_t kMaxCandidates = 500000;
  std::vector<Candidate> cands;
  for (std::uint32_t i = 0; i < names.size() && cands.size() < kMaxCandidates; ++i) {
    vq->bind(1, names[i].id).bind(2, host_filter);
    for (;;) {
      auto row = vq->step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      std::string type = vq->text(5);
      Candidate c{vq->i64(0),
                  vq->i64(1),
                  vq->i64(2),
                  vq->i64(3),
                  vq->i64(4),
                  i,
                  names[i].match,
                  type.empty() ? 'f' : type[0],
                  0,
                  0,
                  static_cast<std::uint64_t>(vq->i64(6)),
                  vq->i64(7)};
      if (q.type && static_cast<FileType>(c.type) != *q.type) continue;
      if ((q.min_size && c.size < *q.min_size) || (q.max_size && c.size > *q.max_size)) continue;
      auto pts = host_points(c.host_id);
      if (!pts.ok()) return pts.error();
      c.last_seq = std::min<std::int64_t>(c.to_seq, static_cast<std::int64_t>((*pts)->size()));
      if (q.before) c.last_seq = std::min(c.last_seq, seq_at_or_before(**pts, *q.before));
      if (c.last_seq < c.from_seq) continue;  // every point holding it is after the range
      c.last_at = at_of(**pts, c.last_seq);
      if (q.after && c.last_at < *q.after) continue;
      cands.push_back(c);
    }
    vq->reset();
  }
  if (cands.size() >= kMaxCandidates) res.total_is_estimate = true;
  std::sort(cands.begin(), cands.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.match != b.match) return a.match < b.match;
    if (a.last_at != b.last_at) return a.last_at > b.last_at;
    if (a.name != b.name) return names[a.name].name < names[b.name].name;
    return a.version_id < b.version_id;
  });
  // Another order: by one column over the rank order. Folders and hosts need their names.
  std::map<std::int64_t, std::string> folder_of;  // node id -> path
  if (q.sort == SearchSort::Folder)
    for (const auto& c : cands)
      if (!folder_of.count(c.node_id)) {
        auto p = r_.node_path(c.node_id);
        if (!p.ok()) return p.error();
        folder_of[c.node_id] = std::move(*p);
      }
  if (q.sort == SearchSort::Host && host_names_.empty()) {
    auto hosts_list = r_.hosts();
    if (!hosts_list.ok()) return hosts_list.error();
    for (const auto& h : *hosts_list) host_names_[h.id] = h.name;
  }
  // `at` is the point the caller sees the hit at (it can change once access is judged).
  auto key_order = [&](const Candidate& a, UnixTime a_at, const Candidate& b, UnixTime b_at) {
    int c = 0;
    switch (q.sort) {
      case SearchSort::Rank:
        return 0;
      case SearchSort::Name:
        c = three_way(fold(names[a.name].name), fold(names[b.name].name));
        break;
      case SearchSort::Folder:
        c = three_way(folder_of[a.node_id], folder_of[b.node_id]);
        break;
      case SearchSort::Host:
        c = three_way(host_names_[a.host_id], host_names_[b.host_id]);
        break;
      case SearchSort::At:
        c = three_way(a_at, b_at);
        break;
      case SearchSort::Size:
        c = three_way(a.size, b.size);
        break;
      case SearchSort::Modified:
        c = three_way(a.mtime_ns, b.mtime_ns);
        break;
    }
    return q.descending ? -c : c;
  };
  if (q.sort != SearchSort::Rank)
    std::stable_sort(cands.begin(), cands.end(), [&](const Candidate& a, const Candidate& b) {
      return key_order(a, a.last_at, b, b.last_at) < 0;
    });

  // A caller other than root sees a hit at the newest point it may read there, which can be
  // older than the version's newest: judge first, then rank on the point the caller sees.
  // Judging costs a few cached look-ups per hit; past kMaxJudged the total is estimated.
  constexpr std::size_t kMaxJudged = 20000;
  struct Visible {
    const Candidate* c;
    std::int64_t seq;
    UnixTime at;
    std::optional<store::VersionRow> full;
    std::string path;
  };
  std::vector<Visible> visible;
  std::size_t judged = 0;
  bool judge_capped = false;
  for (const auto& c : cands) {
    if (who_.is_root() && path_filter.empty()) {
      // Root may read every candidate: only the page needs its rows.
      if (visible.size() >= q.offset + q.limit) break;
      visible.push_back({&c, c.last_seq, c.last_at, std::nullopt, {}});
      continue;
    }
    if (!who_.is_root() && judged >= kMaxJudged) {
      judge_capped = true;
      res.total_is_estimate = true;
      break;
    }
    ++judged;
    Visible v{&c, c.last_seq, c.last_at, std::nullopt, {}};
    if (!who_.is_root()) {
      auto row = r_.version_by_id(c.version_id);
      if (!row.ok()) return row.error();
      v.full = std::move(*row);
      auto m = may(c.node_id, v.full->meta, v.seq, kRead);
      if (!m.ok()) return m.error();
      if (!*m && c.from_seq != v.seq) {
        v.seq = c.from_seq;
        m = may(c.node_id, v.full->meta, v.seq, kRead);
        if (!m.ok()) return m.error();
      }
      if (!*m) continue;
      auto pts = host_points(c.host_id);
      if (!pts.ok()) return pts.error();
      v.at = at_of(**pts, v.seq);
      if (q.after && v.at < *q.after) continue;
    }
    if (!path_filter.empty()) {
      auto p = r_.node_path(c.node_id);
      if (!p.ok()) return p.error();
      if (fold(*p).find(path_filter) == std::string::npos) continue;
      v.path = std::move(*p);
    }
    visible.push_back(std::move(v));
  }
  if (!who_.is_root() && q.sort == SearchSort::Rank)
    std::stable_sort(visible.begin(), visible.end(), [&](const Visible& a, const Visible& b) {
      if (a.c->match != b.c->match) return a.c->match < b.c->match;
      return a.at > b.at;  // ties keep the name order of the first sort
    });
  if (!who_.is_root() && q.sort == SearchSort::At)
    std::stable_sort(visible.begin(), visible.end(), [&](const Visible& a, const Visible& b) {
      return key_order(*a.c, a.at, *b.c, b.at) < 0;
    });
  std::size_t allowed = visible.size();
  if (who_.is_root() && path_filter.empty()) allowed = cands.size();
  if (judge_capped) allowed += (cands.size() - judged) * visible.size() / std::max<std::size_t>(judged, 1);

  for (std::size_t i = q.offset; i < visible.size() && i < q.offset + q.limit; ++i) {
    Visible& v = visible[i];
    const Candidate& c = *v.c;
    if (v.path.empty()) {
      auto p = r_.node_path(c.node_id);
      if (!p.ok()) return p.error();
      v.path = std::move(*p);
    }
    if (!v.full) {
      auto row = r_.version_by_id(c.version_id);
      if (!row.ok()) return row.error();
      v.full = std::move(*row);
    }
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
    hit.path = std::move(v.path);
    hit.name = names[c.name].name;
    hit.at = v.at;
    hit.first_at = at_of(**pts, c.from_seq);
    hit.match = c.match;
    hit.version = std::move(*v.full);
    res.hits.push_back(std::move(hit));
  }
  res.total = allowed;
  return res;
}

}  // namespace recall::service
