// The browser's models and pure view logic, fed by FakeApi: paging, stale answers, sorting by
// recalld, lazy trees, versions and what changed, cost hints, conflict memory. Each model is
// also checked by QAbstractItemModelTester.
#include <QAbstractItemModelTester>
#include <QTest>

#include "fake_api.h"
#include "gui/formatting.h"
#include "gui/json_table_model.h"
#include "gui/point_tree_model.h"
#include "gui/restore_task.h"
#include "gui/search_model.h"
#include "gui/versions_model.h"

using namespace recall;
using namespace recall::gui;
using recall::gui::testing::FakeApi;
using json = nlohmann::json;

namespace {
json hits(int from, int n, std::size_t total) {
  json r = json::array();
  for (int i = from; i < from + n; ++i)
    r.push_back(
        {{"name", "f" + std::to_string(i)},
         {"path", "/d/f" + std::to_string(i)},
         {"host", "h"},
         {"type", "file"},
         {"size", i},
         {"at", "2026-12-01T10:00:00Z"},
         {"mtime_ns", 0},
         {"where",
          {{"lives", i % 2 ? "tape" : "disk"}, {"cartridges", i % 2 ? json{"R00001"} : json::array()}}}});
  return {{"results", r}, {"total", total}, {"total_is_estimate", false}};
}

bool has_param(const std::string& target, const std::string& kv) {
  return target.find("?" + kv) != std::string::npos || target.find("&" + kv) != std::string::npos;
}
}  // namespace

class GuiModels : public QObject {
  Q_OBJECT
 private slots:
  void search_pages_as_the_view_scrolls() {
    FakeApi api;
    SearchModel m(api);
    QAbstractItemModelTester t(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    SearchFilter f;
    f.text = "budget";
    m.set_filter(f);
    QCOMPARE(api.calls.size(), std::size_t{1});
    QVERIFY(has_param(api.calls[0].target, "q=budget"));
    QVERIFY(has_param(api.calls[0].target, "offset=0"));
    QVERIFY(has_param(api.calls[0].target, "limit=200"));
    api.answer(0, hits(0, 200, 450));
    QCOMPARE(m.rowCount(), 200);
    QCOMPARE(m.total(), std::size_t{450});
    // (The model tester may have asked for the next page already, as a view would.)
    m.fetchMore({});
    m.fetchMore({});  // one page at a time
    QVERIFY(!m.canFetchMore({}));
    QCOMPARE(api.calls.size(), std::size_t{1});
    QVERIFY2(has_param(api.calls[0].target, "offset=200"), api.calls[0].target.c_str());
    api.answer(0, hits(200, 200, 450));
    m.fetchMore({});
    api.answer(0, hits(400, 50, 450));
    QCOMPARE(m.rowCount(), 450);
    QVERIFY(!m.canFetchMore({}));
    QCOMPARE(m.data(m.index(3, SearchModel::Where), Qt::DisplayRole).toString(),
             QString("Tape R00001 (in the library)"));
    QCOMPARE(m.data(m.index(2, SearchModel::Where), Qt::DisplayRole).toString(), QString("On disk"));
    QCOMPARE(m.data(m.index(2, SearchModel::Folder), Qt::DisplayRole).toString(), QString("/d"));
  }

  void stale_answers_are_dropped() {
    FakeApi api;
    SearchModel m(api);
    SearchFilter f;
    f.text = "bud";
    m.set_filter(f);
    f.text = "budget";
    m.set_filter(f);
    QCOMPARE(api.calls.size(), std::size_t{2});
    api.answer(1, hits(0, 2, 2));    // the fresh query answers first
    api.answer(0, hits(0, 50, 50));  // then the stale one: ignored
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.filter().text, std::string("budget"));
  }

  void filters_and_sorting_go_to_recalld() {
    FakeApi api;
    SearchModel m(api);
    SearchFilter f;
    f.text = "x";
    f.host = "laptop";
    f.type = "file";
    f.min_size = 1000;
    f.after = QDateTime(QDate(2026, 11, 1), QTime(0, 0), Qt::UTC);
    m.set_filter(f);
    const auto& t = api.calls.back().target;
    QVERIFY(has_param(t, "host=laptop"));
    QVERIFY(has_param(t, "type=file"));
    QVERIFY(has_param(t, "min_size=1000"));
    QVERIFY2(has_param(t, "after=2026-11-01T00%3A00%3A00Z"), t.c_str());
    QVERIFY(t.find("sort=") == std::string::npos);
    m.sort(SearchModel::Size, Qt::DescendingOrder);
    QVERIFY(has_param(api.calls.back().target, "sort=size"));
    QVERIFY(has_param(api.calls.back().target, "order=desc"));
    QCOMPARE(m.rowCount(), 0);  // a new order starts from the first page
  }

  void an_error_is_reported_and_empty_text_clears() {
    FakeApi api;
    SearchModel m(api);
    QString error;
    connect(&m, &SearchModel::failed, [&](const QString& e) { error = e; });
    SearchFilter f;
    f.text = "[";
    m.set_filter(f);
    api.answer(0, make_error(ErrorKind::Invalid, "bad pattern"));
    QCOMPARE(error, QString("bad pattern"));
    f.text = "";
    m.set_filter(f);
    QVERIFY(api.calls.empty());
    QCOMPARE(m.rowCount(), 0);
  }

  void tree_lists_a_directory_when_expanded() {
    FakeApi api;
    PointTreeModel m(api);
    QAbstractItemModelTester t(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.set_point("h", "2026-12-01T10:00:00Z");
    QCOMPARE(api.calls.size(), std::size_t{1});
    QVERIFY(has_param(api.calls[0].target, "path=%2F"));
    api.answer(0, json{{"entries",
                        {{{"name", "notes.txt"}, {"type", "file"}, {"size", 5}},
                         {{"name", "home"}, {"type", "dir"}}}}});
    QCOMPARE(m.rowCount(), 2);
    QModelIndex home = m.index(0, 0);  // folders first
    QCOMPARE(home.data().toString(), QString("home"));
    QVERIFY(m.hasChildren(home));
    m.fetchMore(home);  // (unless the model tester did already)
    QCOMPARE(api.calls.size(), std::size_t{1});
    QVERIFY(has_param(api.calls[0].target, "path=%2Fhome"));
    api.answer(0, make_error(ErrorKind::Denied, "may not list /home"));
    QCOMPARE(m.rowCount(home), 0);
    QVERIFY(!m.hasChildren(home));
    QCOMPARE(m.data(home, Qt::ToolTipRole).toString(), QString("may not list /home"));
    // A new point forgets the old tree; a late answer for it is dropped.
    m.fetchMore(m.index(1, 0));  // a file: nothing to fetch
    QVERIFY(api.calls.empty());
    m.set_point("h", "2026-11-01T10:00:00Z");
    m.set_point("h", "2026-10-01T10:00:00Z");
    api.answer(0, json{{"entries", {{{"name", "old"}, {"type", "dir"}}}}});
    QCOMPARE(m.rowCount(), 0);
    api.answer(0, json{{"entries", {{{"name", "new"}, {"type", "dir"}}}}});
    QCOMPARE(m.index(0, 0).data().toString(), QString("new"));
    QCOMPARE(m.path_of(m.index(0, 0)), std::string("/new"));
  }

  // Regression (issue 24): names are shown escaped, one line, and asked for by their exact bytes.
  void tree_shows_odd_names_escaped_and_lists_them_by_their_bytes() {
    FakeApi api;
    PointTreeModel m(api);
    QAbstractItemModelTester t(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.set_point("h", "2026-12-01T10:00:00Z");
    api.answer(0, json{{"entries",
                        {{{"name", "caf\\xe9"}, {"name_raw", "caf%E9"}, {"type", "dir"}},
                         {{"name", "line\nbreak"}, {"type", "file"}}}}});
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.index(0, 0).data().toString(), QString("caf\\xe9"));
    QCOMPARE(m.index(1, 0).data().toString(), QString("line\\x0abreak"));
    QCOMPARE(m.path_of(m.index(0, 0)), std::string("/caf\xe9"));
    m.fetchMore(m.index(0, 0));
    QVERIFY(!api.calls.empty());
    QVERIFY(has_param(api.calls.back().target, "path=%2Fcaf%E9"));
  }

  void versions_newest_first_with_what_changed() {
    FakeApi api;
    VersionsModel m(api);
    QAbstractItemModelTester t(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.set_file("h", "/home/a/budget.ods");
    json v = json::array();
    v.push_back({{"type", "file"},
                 {"size", 1000},
                 {"sha256", "b"},
                 {"mode", 420},
                 {"first_seen", "2026-12-02T10:00:00Z"},
                 {"last_seen", "2026-12-02T10:00:00Z"}});
    v.push_back({{"type", "file"},
                 {"size", 900},
                 {"sha256", "a"},
                 {"mode", 420},
                 {"first_seen", "2026-12-01T10:00:00Z"},
                 {"last_seen", "2026-12-01T10:00:00Z"}});
    v.push_back({{"type", "file"},
                 {"size", 1000},
                 {"sha256", "b"},
                 {"mode", 384},
                 {"first_seen", "2026-12-03T10:00:00Z"},
                 {"last_seen", "2026-12-04T10:00:00Z"},
                 {"current", true}});
    api.answer(0, json{{"versions", v}});
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.restore_at(0), std::string("2026-12-04T10:00:00Z"));
    QCOMPARE(m.data(m.index(0, VersionsModel::Change), Qt::DisplayRole).toString(),
             QString("Permissions changed"));
    QCOMPARE(m.data(m.index(1, VersionsModel::Change), Qt::DisplayRole).toString(),
             QString("Contents changed (100 bytes larger)"));
    QCOMPARE(m.data(m.index(2, VersionsModel::Change), Qt::DisplayRole).toString(),
             QString("First backup of this file"));
    QVERIFY(m.data(m.index(0, VersionsModel::BackedUp), Qt::DisplayRole).toString().endsWith("now"));
  }

  void words() {
    QCOMPARE(human_size(0), QString("0 bytes"));
    QCOMPARE(human_size(1), QString("1 byte"));
    QCOMPARE(human_size(412'000'000), QString("412.0 MB"));
    QCOMPARE(about_duration(40), QString("about 40 s"));
    QCOMPARE(about_duration(14 * 60), QString("about 14 min"));
    QCOMPARE(where_text(json{{"lives", "offsite"}, {"cartridges", {"R00007"}}}),
             QString("Tape R00007 (off-site)"));
    QCOMPARE(where_icon_name(json{{"lives", "tape"}}), QString("tape"));
    QCOMPARE(describe_change(nullptr, json::object()), QString("First backup of this file"));
    json a{{"type", "file"}, {"size", 5}, {"sha256", "x"}, {"mtime_ns", 1}}, b = a;
    b["mtime_ns"] = 2;
    QCOMPARE(describe_change(&a, b), QString("Saved again, same contents"));
    b["user"] = "bob";
    QCOMPARE(describe_change(&a, b), QString("Owner changed"));
    QVERIFY(!icon("tape").isNull());
    QVERIFY(!icon("recall").pixmap(32, 32).isNull());
  }

  void cost_hint_in_plain_words() {
    CostEstimate e;
    e.add({{"files", 2}, {"bytes", 300'000'000}, {"cartridges", {{{"volser", "R00042"}}}}, {"eta_s", 600.0}});
    e.add({{"files", 1},
           {"bytes", 112'000'000},
           {"cartridges", {{{"volser", "R00043"}}, {{"volser", "R00042"}}}},
           {"eta_s", 240.0}});
    QCOMPARE(cost_hint(e), QString("3 files, 412.0 MB, 2 tapes, about 14 min"));
    CostEstimate disk;
    disk.add({{"files", 1}, {"bytes", 5}});
    QCOMPARE(cost_hint(disk), QString("1 file, 5 bytes, all on disk: ready right away"));
    e.needs_operator = true;
    QVERIFY(cost_hint(e).endsWith("once an operator brings back the tapes that are off-site"));
  }

  void conflict_answers_for_all_are_remembered() {
    ConflictMemory m;
    m.answer(cli::OnConflict::Skip, false);
    QVERIFY(!m.remembered());
    m.answer(cli::OnConflict::Overwrite, true);
    QCOMPARE(int(*m.remembered()), int(cli::OnConflict::Overwrite));
  }

  void destination_is_the_original_folder_or_the_chosen_one() {
    RestoreRequest r;
    RestoreItem it{"h", "2026-12-01T10:00:00Z", "/tmp/budget.ods", "file", 5};
    QString problem;
    QCOMPARE(destination_of(r, it, &problem), std::string("/tmp"));
    it.path = "/no/such/folder/x";
    QCOMPARE(destination_of(r, it, &problem), std::string());
    QVERIFY(problem.contains("/no/such/folder"));
    r.to_original = false;
    r.folder = "/";
    QCOMPARE(destination_of(r, it, &problem), std::string("/"));
  }

  void admin_table_over_json() {
    JsonTableModel m(
        {{"Cartridge", [](const json& j) { return QString::fromStdString(j.value("volser", "")); },
          nullptr}});
    QAbstractItemModelTester t(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.set_rows(json::array({{{"volser", "R00001"}}, {{"volser", "R00002"}}}));
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.index(1, 0).data().toString(), QString("R00002"));
    m.set_rows(json());
    QCOMPARE(m.rowCount(), 0);
  }
};

QTEST_MAIN(GuiModels)
#include "test_gui_models.moc"
