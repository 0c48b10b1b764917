// CatalogView: search (modes, ranking, paging, filters, access filtering), resolve and list.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/owner_map.h"
#include "catalog_test_util.h"
#include "catalogd/service/catalog_view.h"

using namespace recall;
using namespace recall::store;
using recall::service::CatalogView;
using recall::service::SearchHit;
using recall::service::SearchQuery;
using recall::service::SearchResult;
using recall::testing::dir_meta;
using recall::testing::file_meta;

namespace {

// Alpha has points at 1000, 2000, 3000; beta at 1500 and 2500.
//
// alpha, point 1 (1000):
//   /                      d 0755 root
//   /docs                  d 0755 root
//   /docs/report.odt       f 0644 root   (v1; replaced in point 2 by v2)
//   /docs/report           f 0644 root
//   /docs/myreport.txt     f 0644 root
//   /docs/ab               f 0644 root
//   /docs/x.c              f 0644 root
//   /docs/café-notes.md    f 0644 root
//   /docs/secret-report.txt f 0600 root  (others may not read it)
//   /docs/own-report.txt   f 0600 uid 5000 "alice" (alice is uid 1234 here)
//   /private               d 0700 root
//   /private/report.odt    f 0644 root   (parent not searchable by others)
//   /noexec                d 0744 root   (readable, not searchable by others)
//   /noexec/report-hidden.txt f 0644 root
//   /shared                d 0755 root   (0700 from point 2 on)
//   /shared/report-old.txt f 0644 root   (so others may reach it at point 1 only)
//   /reports               d 0755 root
// alpha, point 2 (2000): /docs/report.odt v2, /docs/Report-2026.ods added, /shared 0700.
// alpha, point 3 (3000): /docs/Report-2026.ods deleted.
// beta, point 1 (1500): / , /docs, /docs/report.odt, /docs/beta-only.txt; point 2 (2500): no change.
class SearchTest : public recall::testing::CatalogFixture {
 protected:
  void SetUp() override {
    CatalogFixture::SetUp();
    if (HasFatalFailure()) return;
    build();
    if (HasFatalFailure()) return;
    reader_ = std::make_unique<CatalogReader>(*db_);
  }

  void build() {
    {
      auto w = PointWriter::begin(*db_, {"alpha", 1000, "test", "/"});
      ASSERT_TRUE(w.ok()) << w.error().message;
      auto root = w->root_node();
      ASSERT_TRUE(w->add_version(root, dir_meta(), 0).ok());
      auto add = [&](std::int64_t parent, const std::string& name, const FileMeta& m) {
        auto n = w->child_node(parent, name);
        EXPECT_TRUE(n.ok());
        auto v = w->add_version(*n, m, 0);
        EXPECT_TRUE(v.ok());
        return *n;
      };
      docs_ = add(root, "docs", dir_meta());
      add(docs_, "report.odt", file_meta(0644, 100));
      add(docs_, "report", file_meta());
      add(docs_, "myreport.txt", file_meta());
      add(docs_, "ab", file_meta());
      add(docs_, "x.c", file_meta());
      add(docs_, "caf\xc3\xa9-notes.md", file_meta());
      add(docs_, "secret-report.txt", file_meta(0600));
      add(docs_, "own-report.txt", file_meta(0600, 10, 5000, "alice"));
      auto priv = add(root, "private", dir_meta(0700));
      add(priv, "report.odt", file_meta());
      auto noexec = add(root, "noexec", dir_meta(0744));
      add(noexec, "report-hidden.txt", file_meta());
      shared_ = add(root, "shared", dir_meta());
      add(shared_, "report-old.txt", file_meta());
      add(root, "reports", dir_meta());
      ASSERT_TRUE(w->commit("{}").ok());
    }
    {
      auto w = PointWriter::begin(*db_, {"alpha", 2000, "test", "/"});
      ASSERT_TRUE(w.ok()) << w.error().message;
      auto r = w->child_node(docs_, "report.odt");
      ASSERT_TRUE(r.ok());
      auto prev = w->open_version(*r);
      ASSERT_TRUE(prev.ok() && prev->has_value());
      ASSERT_TRUE(w->close_version((*prev)->id).ok());
      ASSERT_TRUE(w->add_version(*r, file_meta(0644, 200), 0).ok());
      auto ods = w->child_node(docs_, "Report-2026.ods");
      ASSERT_TRUE(ods.ok());
      ASSERT_TRUE(w->add_version(*ods, file_meta(), 0).ok());
      auto sh = w->open_version(shared_);
      ASSERT_TRUE(sh.ok() && sh->has_value());
      ASSERT_TRUE(w->close_version((*sh)->id).ok());
      ASSERT_TRUE(w->add_version(shared_, dir_meta(0700), 0).ok());
      ASSERT_TRUE(w->commit("{}").ok());
    }
    {
      auto w = PointWriter::begin(*db_, {"alpha", 3000, "test", "/"});
      ASSERT_TRUE(w.ok()) << w.error().message;
      auto ods = w->child_node(docs_, "Report-2026.ods");
      ASSERT_TRUE(ods.ok());
      auto prev = w->open_version(*ods);
      ASSERT_TRUE(prev.ok() && prev->has_value());
      ASSERT_TRUE(w->close_version((*prev)->id).ok());
      ASSERT_TRUE(w->commit("{}").ok());
    }
    {
      auto w = PointWriter::begin(*db_, {"beta", 1500, "test", "/"});
      ASSERT_TRUE(w.ok()) << w.error().message;
      auto root = w->root_node();
      ASSERT_TRUE(w->add_version(root, dir_meta(), 0).ok());
      auto d = w->child_node(root, "docs");
      ASSERT_TRUE(d.ok());
      ASSERT_TRUE(w->add_version(*d, dir_meta(), 0).ok());
      for (const char* name : {"report.odt", "beta-only.txt"}) {
        auto n = w->child_node(*d, name);
        ASSERT_TRUE(n.ok());
        ASSERT_TRUE(w->add_version(*n, file_meta(), 0).ok());
      }
      ASSERT_TRUE(w->commit("{}").ok());
    }
    {
      auto w = PointWriter::begin(*db_, {"beta", 2500, "test", "/"});
      ASSERT_TRUE(w.ok()) << w.error().message;
      ASSERT_TRUE(w->commit("{}").ok());
    }
    // What recalld does after each import: the suite searches the index as it normally is.
    auto indexed = index_new_names(*db_);
    ASSERT_TRUE(indexed.ok()) << indexed.error().message;
  }

  // Root, and a plain user 1234 who is "alice" by name today.
  Identity root_id_{.uid = 0, .gid = 0, .groups = {0}, .user = "root"};
  Identity user_id_{.uid = 1234, .gid = 1234, .groups = {1234}, .user = "alice"};
  OwnerMap owners_{[](const std::string& name) -> Result<std::optional<std::uint32_t>> {
                     if (name == "alice") return std::optional<std::uint32_t>(1234);
                     return std::optional<std::uint32_t>();
                   },
                   [](const std::string&) -> Result<std::optional<std::uint32_t>> {
                     return std::optional<std::uint32_t>();
                   }};
  std::unique_ptr<CatalogReader> reader_;
  std::int64_t docs_ = 0, shared_ = 0;

  SearchResult search(const Identity& who, SearchQuery q) {
    CatalogView view(*reader_, who, owners_);
    auto r = view.search(q);
    EXPECT_TRUE(r.ok()) << "search '" << q.text << "': " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : SearchResult{};
  }
  SearchResult search(const Identity& who, const std::string& text, std::size_t limit = 50) {
    SearchQuery q;
    q.text = text;
    q.limit = limit;
    return search(who, q);
  }
};

std::multiset<std::string> host_paths(const SearchResult& r) {
  std::multiset<std::string> out;
  for (const auto& h : r.hits) out.insert(h.host + ":" + h.path);
  return out;
}

std::string describe(const SearchResult& r) {
  std::string s = "mode=" + r.mode + " total=" + std::to_string(r.total) + "\n";
  for (const auto& h : r.hits)
    s += "  " + h.host + ":" + h.path + " match=" + std::to_string(h.match) + " at=" + std::to_string(h.at) +
         "\n";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Modes

// Names an import recorded are found before recalld puts them into the search index (looked at
// directly) and after, the same way; the index learns each name once.
TEST_F(SearchTest, NamesNotYetIndexedAreFoundAndIndexedOnce) {
  {
    auto w = PointWriter::begin(*db_, {"gamma", 4000, "test", "/"});
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE(w->add_version(w->root_node(), dir_meta(), 0).ok());
    for (const char* name : {"Quarterly-Report.xlsx", "report.odt", "un%der_score.txt"}) {
      auto n = w->child_node(w->root_node(), name);
      ASSERT_TRUE(n.ok());
      ASSERT_TRUE(w->add_version(*n, file_meta(), 0).ok());
    }
    ASSERT_TRUE(w->commit("{}").ok());
  }
  const std::int64_t fts_rows = scalar("SELECT count(*) FROM names_fts WHERE names_fts MATCH '\"report\"'");
  auto before = search(root_id_, "REPORT");
  EXPECT_EQ(before.total, 14u) << describe(before);  // the 12 of the suite and gamma's two
  EXPECT_EQ(search(root_id_, "quarterly").total, 1u);
  EXPECT_EQ(search(root_id_, "un_de").total, 0u);  // LIKE's wildcards are plain characters
  EXPECT_EQ(search(root_id_, "%der_s").total, 1u);

  auto n = index_new_names(*db_);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);  // report.odt was known already
  EXPECT_EQ(scalar("SELECT count(*) FROM names_fts WHERE names_fts MATCH '\"report\"'"), fts_rows + 1);
  EXPECT_EQ(host_paths(search(root_id_, "REPORT")), host_paths(before));
  EXPECT_EQ(search(root_id_, "%der_s").total, 1u);
  EXPECT_EQ(*index_new_names(*db_), 0);
}

TEST_F(SearchTest, SubstringIsCaseInsensitive) {
  auto r = search(root_id_, "report");
  EXPECT_EQ(r.mode, "substring");
  // 12 versions have "report" in their name (report.odt twice on alpha's /docs).
  EXPECT_EQ(r.total, 12u) << describe(r);
  EXPECT_EQ(r.hits.size(), 12u);
  EXPECT_FALSE(r.total_is_estimate);
  auto upper = search(root_id_, "REPORT");
  EXPECT_EQ(upper.mode, "substring");
  EXPECT_EQ(host_paths(upper), host_paths(r));
  auto mixed = search(root_id_, "RePoRt-2026");
  ASSERT_EQ(mixed.hits.size(), 1u) << describe(mixed);
  EXPECT_EQ(mixed.hits[0].path, "/docs/Report-2026.ods");
  EXPECT_EQ(mixed.hits[0].host, "alpha");
  EXPECT_EQ(mixed.hits[0].name, "Report-2026.ods");

  // Three characters are enough, whatever their byte length.
  auto notes = search(root_id_, "NOTES");
  ASSERT_EQ(notes.hits.size(), 1u) << describe(notes);
  EXPECT_EQ(notes.hits[0].path, "/docs/caf\xc3\xa9-notes.md");
  auto afe = search(root_id_, "af\xc3\xa9");
  EXPECT_EQ(afe.mode, "substring");
  ASSERT_EQ(afe.hits.size(), 1u) << describe(afe);
  EXPECT_EQ(afe.hits[0].name, "caf\xc3\xa9-notes.md");
  auto xc = search(root_id_, "x.c");
  EXPECT_EQ(xc.mode, "substring");
  ASSERT_EQ(xc.hits.size(), 1u) << describe(xc);
  EXPECT_EQ(xc.hits[0].match, 0);

  // FTS syntax in the text means nothing.
  auto quoted = search(root_id_, "\"report\" OR x");
  EXPECT_EQ(quoted.total, 0u) << describe(quoted);
  auto none = search(root_id_, "nothing-like-this");
  EXPECT_EQ(none.total, 0u);
  EXPECT_TRUE(none.hits.empty());
}

TEST_F(SearchTest, ShortQueriesUseLikeFallback) {
  auto ab = search(root_id_, "ab");
  EXPECT_EQ(ab.mode, "short");
  ASSERT_EQ(ab.hits.size(), 1u) << describe(ab);
  EXPECT_EQ(ab.hits[0].path, "/docs/ab");
  EXPECT_EQ(ab.hits[0].match, 0);
  EXPECT_EQ(ab.total, 1u);
  auto upper = search(root_id_, "AB");
  EXPECT_EQ(upper.mode, "short");
  EXPECT_EQ(host_paths(upper), host_paths(ab));
  // Two characters, three bytes: still short (a trigram index cannot find it).
  auto fe = search(root_id_, "f\xc3\xa9");
  EXPECT_EQ(fe.mode, "short");
  ASSERT_EQ(fe.hits.size(), 1u) << describe(fe);
  EXPECT_EQ(fe.hits[0].name, "caf\xc3\xa9-notes.md");
  // One character: "x" is in x.c, secret-report.txt, myreport.txt, own-report.txt,
  // report-hidden.txt, report-old.txt, beta-only.txt and noexec, and nowhere else.
  auto x = search(root_id_, "X");
  EXPECT_EQ(x.mode, "short");
  EXPECT_EQ(x.total, 8u) << describe(x);
  // LIKE wildcards are taken literally.
  for (const char* wild : {"_", "%", "\\", "%%", "a_"}) {
    auto w = search(root_id_, wild);
    EXPECT_EQ(w.mode, "short") << wild;
    EXPECT_EQ(w.total, 0u) << wild << "\n" << describe(w);
  }
}

TEST_F(SearchTest, GlobPatterns) {
  auto odt = search(root_id_, "*.odt");
  EXPECT_EQ(odt.mode, "glob");
  // alpha /docs/report.odt v1 and v2, alpha /private/report.odt, beta /docs/report.odt.
  EXPECT_EQ(odt.total, 4u) << describe(odt);
  EXPECT_EQ(host_paths(odt),
            (std::multiset<std::string>{"alpha:/docs/report.odt", "alpha:/docs/report.odt",
                                        "alpha:/private/report.odt", "beta:/docs/report.odt"}));
  for (const auto& h : odt.hits) EXPECT_EQ(h.match, 2);
  auto q = search(root_id_, "x.?");
  EXPECT_EQ(q.mode, "glob");
  ASSERT_EQ(q.hits.size(), 1u) << describe(q);
  EXPECT_EQ(q.hits[0].name, "x.c");
  auto cls = search(root_id_, "[ab]*");
  EXPECT_EQ(cls.mode, "glob");
  EXPECT_EQ(host_paths(cls), (std::multiset<std::string>{"alpha:/docs/ab", "beta:/docs/beta-only.txt"}));
}

TEST_F(SearchTest, PathQueries) {
  auto r = search(root_id_, "docs/report");
  EXPECT_EQ(r.mode, "path");
  EXPECT_EQ(host_paths(r), (std::multiset<std::string>{
                               "alpha:/docs/report", "alpha:/docs/report.odt", "alpha:/docs/report.odt",
                               "alpha:/docs/Report-2026.ods", "beta:/docs/report.odt"}))
      << describe(r);
  EXPECT_EQ(r.total, 5u);
  auto upper = search(root_id_, "DOCS/Report.o");
  EXPECT_EQ(upper.mode, "path");
  EXPECT_EQ(upper.total, 3u) << describe(upper);
  auto deep = search(root_id_, "/private/report.odt");
  EXPECT_EQ(deep.mode, "path");
  ASSERT_EQ(deep.hits.size(), 1u) << describe(deep);
  EXPECT_EQ(deep.hits[0].path, "/private/report.odt");
  auto bad = CatalogView(*reader_, root_id_, owners_).search(SearchQuery{"docs/"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::Invalid);
  auto empty = CatalogView(*reader_, root_id_, owners_).search(SearchQuery{""});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::Invalid);
}

// ---------------------------------------------------------------------------------------------
// Ranking and paging

TEST_F(SearchTest, RankingExactThenPrefixThenSubstringNewestFirst) {
  auto r = search(root_id_, "report");
  ASSERT_EQ(r.hits.size(), 12u) << describe(r);
  // Classes in order, and newest point first within a class.
  for (std::size_t i = 1; i < r.hits.size(); ++i) {
    const auto& a = r.hits[i - 1];
    const auto& b = r.hits[i];
    ASSERT_LE(a.match, b.match) << describe(r);
    if (a.match == b.match) {
      ASSERT_GE(a.at, b.at) << describe(r);
    }
  }
  EXPECT_EQ(r.hits[0].path, "/docs/report");
  EXPECT_EQ(r.hits[0].match, 0);
  std::vector<std::pair<std::string, UnixTime>> prefix, substring;
  for (const auto& h : r.hits) {
    if (h.match == 1) prefix.emplace_back(h.host + ":" + h.path, h.at);
    if (h.match == 2) substring.emplace_back(h.host + ":" + h.path, h.at);
  }
  // Prefix: report.odt v2 (3000), /private/report.odt (3000), report-hidden.txt (3000),
  // report-old.txt (3000), /reports (3000), beta's report.odt (2500), Report-2026.ods (its last
  // point is 2000), report.odt v1 (1000).
  ASSERT_EQ(prefix.size(), 8u) << describe(r);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(prefix[i].second, 3000) << describe(r);
  EXPECT_EQ(prefix[5], std::make_pair(std::string("beta:/docs/report.odt"), UnixTime{2500}));
  EXPECT_EQ(prefix[6], std::make_pair(std::string("alpha:/docs/Report-2026.ods"), UnixTime{2000}));
  EXPECT_EQ(prefix[7], std::make_pair(std::string("alpha:/docs/report.odt"), UnixTime{1000}));
  std::set<std::string> sub;
  for (const auto& [p, at] : substring) sub.insert(p);
  EXPECT_EQ(sub, (std::set<std::string>{"alpha:/docs/myreport.txt", "alpha:/docs/secret-report.txt",
                                        "alpha:/docs/own-report.txt"}));
  // The v1/v2 hits carry their own versions and points.
  for (const auto& h : r.hits) {
    if (h.host == "alpha" && h.path == "/docs/report.odt") {
      if (h.at == 1000) {
        EXPECT_EQ(h.version.meta.size, 100u);
        EXPECT_EQ(h.first_at, 1000);
      } else {
        EXPECT_EQ(h.version.meta.size, 200u);
        EXPECT_EQ(h.first_at, 2000);
        EXPECT_EQ(h.at, 3000);
      }
    }
  }
}

TEST_F(SearchTest, PagingIsStableAndTotalIsExact) {
  auto all = search(root_id_, "report");
  ASSERT_EQ(all.hits.size(), 12u);
  for (std::size_t limit : {1u, 3u, 5u, 7u}) {
    std::vector<SearchHit> paged;
    for (std::size_t off = 0; off < 14; off += limit) {
      SearchQuery q;
      q.text = "report";
      q.limit = limit;
      q.offset = off;
      auto page = search(root_id_, q);
      EXPECT_EQ(page.total, 12u) << "limit " << limit << " offset " << off;
      EXPECT_LE(page.hits.size(), limit);
      for (auto& h : page.hits) paged.push_back(h);
    }
    ASSERT_EQ(paged.size(), all.hits.size()) << "limit " << limit;
    for (std::size_t i = 0; i < paged.size(); ++i) {
      EXPECT_EQ(paged[i].version.id, all.hits[i].version.id) << "limit " << limit << " index " << i;
      EXPECT_EQ(paged[i].path, all.hits[i].path);
    }
  }
  SearchQuery past;
  past.text = "report";
  past.offset = 100;
  auto r = search(root_id_, past);
  EXPECT_TRUE(r.hits.empty());
  EXPECT_EQ(r.total, 12u);
  // Same for a user whose view is filtered.
  auto mine = search(user_id_, "report");
  std::vector<std::int64_t> paged;
  for (std::size_t off = 0; off < mine.total + 2; off += 2) {
    SearchQuery q;
    q.text = "report";
    q.limit = 2;
    q.offset = off;
    auto page = search(user_id_, q);
    EXPECT_EQ(page.total, mine.total);
    for (auto& h : page.hits) paged.push_back(h.version.id);
  }
  std::vector<std::int64_t> want;
  for (auto& h : mine.hits) want.push_back(h.version.id);
  EXPECT_EQ(paged, want);
}

// ---------------------------------------------------------------------------------------------
// Filters

TEST_F(SearchTest, HostFilter) {
  SearchQuery q;
  q.text = "report";
  q.host = "beta";
  auto r = search(root_id_, q);
  EXPECT_EQ(r.total, 1u) << describe(r);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].host, "beta");
  EXPECT_EQ(r.hits[0].path, "/docs/report.odt");
  EXPECT_EQ(r.hits[0].at, 2500);
  EXPECT_EQ(r.hits[0].first_at, 1500);
  q.host = "alpha";
  r = search(root_id_, q);
  EXPECT_EQ(r.total, 11u) << describe(r);
  for (const auto& h : r.hits) EXPECT_EQ(h.host, "alpha");
  q.host = "gamma";
  auto missing = CatalogView(*reader_, root_id_, owners_).search(q);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

TEST_F(SearchTest, TypeFilter) {
  SearchQuery q;
  q.text = "report";
  q.type = FileType::Directory;
  auto dirs = search(root_id_, q);
  ASSERT_EQ(dirs.total, 1u) << describe(dirs);
  EXPECT_EQ(dirs.hits[0].path, "/reports");
  EXPECT_EQ(dirs.hits[0].version.meta.type, FileType::Directory);
  q.type = FileType::Regular;
  auto files = search(root_id_, q);
  EXPECT_EQ(files.total, 11u) << describe(files);
  for (const auto& h : files.hits) EXPECT_EQ(h.version.meta.type, FileType::Regular);
  q.type = FileType::Symlink;
  EXPECT_EQ(search(root_id_, q).total, 0u);
  q.text = "docs";
  q.type = FileType::Directory;
  auto d = search(root_id_, q);
  EXPECT_EQ(host_paths(d), (std::multiset<std::string>{"alpha:/docs", "beta:/docs"})) << describe(d);
}

TEST_F(SearchTest, SizeFilter) {
  SearchQuery q;
  q.text = "report.odt";
  q.min_size = 50;
  q.max_size = 150;
  auto r = search(root_id_, q);
  ASSERT_EQ(r.total, 1u) << describe(r);
  EXPECT_EQ(r.hits[0].version.meta.size, 100u);
  q.min_size = 150;
  q.max_size.reset();
  r = search(root_id_, q);
  ASSERT_EQ(r.total, 1u) << describe(r);
  EXPECT_EQ(r.hits[0].version.meta.size, 200u);
}

TEST_F(SearchTest, TimeRangeKeepsVersionsHeldByAPointInItAndNamesTheNewestSuchPoint) {
  SearchQuery q;
  q.text = "Report-2026";  // only in alpha's point 2 (2000)
  q.before = 1500;
  EXPECT_EQ(search(root_id_, q).total, 0u);
  q.before.reset();
  q.after = 2500;
  EXPECT_EQ(search(root_id_, q).total, 0u);
  q.after = 1500;
  q.before = 2500;
  auto r = search(root_id_, q);
  ASSERT_EQ(r.total, 1u) << describe(r);
  EXPECT_EQ(r.hits[0].at, 2000);
  // alpha's report.odt v2 is in points 2000 and 3000: before 2500 names 2000, not 3000.
  q.text = "report.odt";
  q.host = "alpha";
  q.after.reset();
  r = search(root_id_, q);
  bool saw_v2 = false;
  for (const auto& h : r.hits) {
    EXPECT_LE(h.at, 2500) << h.path;
    if (h.version.meta.size == 200) {
      saw_v2 = true;
      EXPECT_EQ(h.at, 2000);
    }
  }
  EXPECT_TRUE(saw_v2) << describe(r);
  // The same for a user: the range applies to the point they may restore at.
  q.text = "report-old";  // alice may reach it at point 1 only
  q.after = 1500;
  q.before.reset();
  EXPECT_EQ(search(user_id_, q).total, 0u);
  q.after = 500;
  EXPECT_EQ(search(user_id_, q).total, 1u);
}

TEST_F(SearchTest, SortByAColumnEitherWay) {
  SearchQuery q;
  q.text = "report.odt";
  q.sort = recall::service::SearchSort::Size;
  auto asc = search(root_id_, q);
  ASSERT_GE(asc.hits.size(), 3u) << describe(asc);
  for (std::size_t i = 1; i < asc.hits.size(); ++i)
    EXPECT_LE(asc.hits[i - 1].version.meta.size, asc.hits[i].version.meta.size) << describe(asc);
  q.descending = true;
  auto desc = search(root_id_, q);
  EXPECT_EQ(desc.hits.front().version.meta.size, 200u) << describe(desc);
  q.sort = recall::service::SearchSort::Host;
  auto hosts = search(root_id_, q);
  EXPECT_EQ(hosts.hits.front().host, "beta") << describe(hosts);
  EXPECT_EQ(hosts.hits.back().host, "alpha") << describe(hosts);
  // Paging goes on in the same order.
  q.sort = recall::service::SearchSort::Folder;
  q.descending = false;
  q.limit = 1;
  std::vector<std::string> paged;
  for (q.offset = 0; q.offset < 10; ++q.offset) {
    auto page = search(root_id_, q);
    if (page.hits.empty()) break;
    paged.push_back(page.hits[0].path);
  }
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end())) << ::testing::PrintToString(paged);
  EXPECT_GE(paged.size(), 3u);
  q.limit = 50;
  q.offset = 0;
  q.descending = true;
  auto user = search(user_id_, q);
  for (std::size_t i = 1; i < user.hits.size(); ++i) EXPECT_GE(user.hits[i - 1].path, user.hits[i].path);
}

// ---------------------------------------------------------------------------------------------
// Access

TEST_F(SearchTest, UserSeesOnlyWhatTheHostWouldLetThemRead) {
  auto r = search(user_id_, "report");
  // Hidden: /private/report.odt (parent 0700), /noexec/report-hidden.txt (parent without x),
  // /docs/secret-report.txt (0600 root). Everything else stays, including own-report.txt
  // (owned by "alice", who is uid 1234 here) and /shared/report-old.txt at point 1 only.
  EXPECT_EQ(host_paths(r),
            (std::multiset<std::string>{
                "alpha:/docs/report", "alpha:/docs/report.odt", "alpha:/docs/report.odt",
                "alpha:/docs/Report-2026.ods", "alpha:/docs/myreport.txt", "alpha:/docs/own-report.txt",
                "alpha:/shared/report-old.txt", "alpha:/reports", "beta:/docs/report.odt"}))
      << describe(r);
  EXPECT_EQ(r.total, 9u);
  EXPECT_EQ(r.total, r.hits.size());
  for (const auto& h : r.hits) {
    if (h.path == "/shared/report-old.txt") {
      EXPECT_EQ(h.at, 1000) << "only point 1 let others through /shared";
    }
  }
  // Other modes are filtered the same way.
  auto glob = search(user_id_, "*.odt");
  EXPECT_EQ(glob.total, 3u) << describe(glob);
  for (const auto& h : glob.hits) EXPECT_NE(h.path, "/private/report.odt");
  auto hidden = search(user_id_, "hidden");
  EXPECT_EQ(hidden.total, 0u) << describe(hidden);
  EXPECT_TRUE(hidden.hits.empty());
  auto secret = search(user_id_, "secret");
  EXPECT_EQ(secret.total, 0u) << describe(secret);
  auto path = search(user_id_, "private/report");
  EXPECT_EQ(path.total, 0u) << describe(path);
  // A user with no matching name gets no owner rights on alice's file.
  Identity other{.uid = 4321, .gid = 4321, .groups = {4321}, .user = "carol"};
  auto own = search(other, "own-report");
  EXPECT_EQ(own.total, 0u) << describe(own);
  // Root sees them all.
  EXPECT_EQ(search(root_id_, "hidden").total, 1u);
}

// A hit's `at` is the newest point the caller may restore it from; "newest first" within a
// class has to follow that point, not the version's newest point (which the caller may not see).
TEST_F(SearchTest, UserHitsAreRankedByThePointTheyMayRestore) {
  auto r = search(user_id_, "report");
  ASSERT_EQ(r.hits.size(), 9u) << describe(r);
  for (std::size_t i = 1; i < r.hits.size(); ++i) {
    ASSERT_LE(r.hits[i - 1].match, r.hits[i].match) << describe(r);
    if (r.hits[i - 1].match == r.hits[i].match) {
      EXPECT_GE(r.hits[i - 1].at, r.hits[i].at) << "hit " << i << "\n" << describe(r);
    }
  }
}

TEST_F(SearchTest, ResolveDeniesBehindUnsearchableDirectories) {
  CatalogView user(*reader_, user_id_, owners_);
  auto expect_kind = [](const Result<service::Resolved>& r, ErrorKind kind, const char* what) {
    ASSERT_FALSE(r.ok()) << what << " resolved";
    EXPECT_EQ(r.error().kind, kind) << what << ": " << r.error().message;
  };
  expect_kind(user.resolve("alpha", kLatest, "/private/report.odt", kRead), ErrorKind::Denied,
              "/private/report.odt");
  // Denied whether or not the name exists: existence must not leak.
  expect_kind(user.resolve("alpha", kLatest, "/private/no-such-file", 0), ErrorKind::Denied,
              "/private/no-such-file");
  expect_kind(user.resolve("alpha", kLatest, "/private/a/b/c", 0), ErrorKind::Denied, "/private/a/b/c");
  expect_kind(user.resolve("alpha", kLatest, "/noexec/report-hidden.txt", 0), ErrorKind::Denied,
              "/noexec/...");
  expect_kind(user.resolve("alpha", kLatest, "/noexec/nothing", 0), ErrorKind::Denied, "/noexec/nothing");
  expect_kind(user.resolve("alpha", kLatest, "/shared/report-old.txt", kRead), ErrorKind::Denied,
              "/shared now");
  expect_kind(user.resolve("alpha", 1000, "/shared/nothing", kRead), ErrorKind::NotFound,
              "/shared/nothing at 1");
  expect_kind(user.resolve("alpha", kLatest, "/docs/no-such-file", 0), ErrorKind::NotFound,
              "/docs/no-such-file");
  expect_kind(user.resolve("alpha", kLatest, "/no-such-dir/x", 0), ErrorKind::NotFound, "/no-such-dir/x");
  expect_kind(user.resolve("alpha", kLatest, "/docs/Report-2026.ods", 0), ErrorKind::NotFound,
              "deleted in 3");
  expect_kind(user.resolve("alpha", kLatest, "/docs/report/x", 0), ErrorKind::NotFound, "file as dir");
  expect_kind(user.resolve("alpha", kLatest, "/docs/secret-report.txt", kRead), ErrorKind::Denied, "secret");
  expect_kind(user.resolve("alpha", 999, "/docs", 0), ErrorKind::NotFound, "before first point");
  expect_kind(user.resolve("gamma", kLatest, "/docs", 0), ErrorKind::NotFound, "unknown host");
  expect_kind(user.resolve("alpha", kLatest, "relative", 0), ErrorKind::Invalid, "relative path");

  auto ok = user.resolve("alpha", 1000, "/shared/report-old.txt", kRead);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->point.seq, 1);
  auto ods = user.resolve("alpha", 2500, "/docs/Report-2026.ods", kRead);
  ASSERT_TRUE(ods.ok()) << ods.error().message;
  EXPECT_EQ(ods->point.seq, 2);
  auto odt = user.resolve("alpha", kLatest, "/docs/report.odt", kRead);
  ASSERT_TRUE(odt.ok()) << odt.error().message;
  EXPECT_EQ(odt->version.meta.size, 200u);
  EXPECT_EQ(odt->path, "/docs/report.odt");
  auto odt1 = user.resolve("alpha", 1999, "/docs/report.odt", kRead);
  ASSERT_TRUE(odt1.ok());
  EXPECT_EQ(odt1->version.meta.size, 100u);
  auto own = user.resolve("alpha", kLatest, "/docs/own-report.txt", kRead);
  EXPECT_TRUE(own.ok()) << own.error().message;
  auto noexec = user.resolve("alpha", kLatest, "/noexec", kRead);  // the dir itself is readable
  EXPECT_TRUE(noexec.ok()) << noexec.error().message;

  // Root: existence is the only question.
  CatalogView root(*reader_, root_id_, owners_);
  expect_kind(root.resolve("alpha", kLatest, "/private/no-such-file", 0), ErrorKind::NotFound,
              "root no-such");
  EXPECT_TRUE(root.resolve("alpha", kLatest, "/private/report.odt", kRead).ok());
  EXPECT_TRUE(root.resolve("alpha", kLatest, "/noexec/report-hidden.txt", kRead).ok());
}

TEST_F(SearchTest, ListWithoutSearchPermissionHidesMetadata) {
  CatalogView user(*reader_, user_id_, owners_);
  auto noexec = user.resolve("alpha", kLatest, "/noexec", kRead);
  ASSERT_TRUE(noexec.ok()) << noexec.error().message;
  auto entries = user.list(*noexec);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "report-hidden.txt");
  EXPECT_FALSE((*entries)[0].meta_visible);

  auto docs = user.resolve("alpha", kLatest, "/docs", kRead);
  ASSERT_TRUE(docs.ok());
  auto d = user.list(*docs);
  ASSERT_TRUE(d.ok());
  std::vector<std::string> names;
  for (const auto& e : *d) {
    names.push_back(e.name);
    EXPECT_TRUE(e.meta_visible) << e.name;
  }
  // Point 3: Report-2026.ods is gone again.
  EXPECT_EQ(names, (std::vector<std::string>{"ab", "caf\xc3\xa9-notes.md", "myreport.txt", "own-report.txt",
                                             "report", "report.odt", "secret-report.txt", "x.c"}));
  auto d2 = user.resolve("alpha", 2000, "/docs", kRead);
  ASSERT_TRUE(d2.ok());
  auto l2 = user.list(*d2);
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ(l2->size(), 9u);

  // Listing a file is Invalid; listing an unreadable dir (resolved by root) is Denied.
  auto file = user.resolve("alpha", kLatest, "/docs/report.odt", 0);
  ASSERT_TRUE(file.ok());
  auto lf = user.list(*file);
  ASSERT_FALSE(lf.ok());
  EXPECT_EQ(lf.error().kind, ErrorKind::Invalid);
  CatalogView root(*reader_, root_id_, owners_);
  auto priv = root.resolve("alpha", kLatest, "/private", kRead);
  ASSERT_TRUE(priv.ok());
  auto lp = user.list(*priv);
  ASSERT_FALSE(lp.ok());
  EXPECT_EQ(lp.error().kind, ErrorKind::Denied);
  auto lr = root.list(*priv);
  ASSERT_TRUE(lr.ok());
  ASSERT_EQ(lr->size(), 1u);
  EXPECT_TRUE((*lr)[0].meta_visible);
}

}  // namespace
