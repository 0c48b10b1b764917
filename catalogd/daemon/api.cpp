#include "catalogd/daemon/api.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "catalogd/daemon/fs_api.h"
#include "catalogd/daemon/json_views.h"
#include "catalogd/daemon/query_args.h"
#include "catalogd/daemon/read_connection.h"
#include "catalogd/daemon/tape_views.h"
#include "catalogd/http/url.h"
#include "catalogd/service/catalog_view.h"
#include "catalogd/store/schema.h"
#include "common/paths.h"

namespace recall::daemon {

DaemonPaths paths_for(const std::string& home) {
  return {home, home + "/catalog.db", home + "/pool", home + "/recalld.sock"};
}

Api::Api(DaemonPaths paths, ApiConfig config, std::unique_ptr<TapeService> tape)
    : paths_(std::move(paths)),
      config_(std::move(config)),
      owners_(default_owner_map()),
      jobs_(paths_.catalog, paths_.pool, paths_.home),
      tape_(std::move(tape)),
      started_(now_utc()) {
  jobs_.set_tape(tape_.get(), &volumes_);
  volumes_.set_key_dir(paths_.home + "/keys");
  source_.set_relocate(
      [catalog = paths_.catalog](const Digest& sha) -> Result<std::vector<store::StoredCopy>> {
        auto rd = thread_reader(catalog);
        if (!rd.ok()) return rd.error();
        return (*rd)->chunk_copies(sha);
      });
}

// Jobs and detached stagings go before the tape bridge they use.
Api::~Api() {
  jobs_.shutdown();
  {
    std::lock_guard lk(detached_mu_);
    detached_.clear();
  }
  if (tape_) tape_->stop();
}

ReadRequest Api::read_request(const Identity& who, tape::Priority priority, const std::string& host,
                              const std::string& path, std::int64_t content_id) const {
  ReadRequest rq;
  rq.who = {who.uid, who.user};
  rq.priority = priority;
  rq.what = host + ":" + escape_for_display(path);
  rq.tag = "content:" + std::to_string(content_id);
  return rq;
}

namespace {

using http_status = boost::beast::http::status;

}  // namespace

Result<Identity> Api::identity_for_request(const HttpServer::Request& req, const HttpServer::Caller& caller) {
  // A root-run recall-fs serves every user through one connection and says whom it asks for.
  // Only root may speak for someone else: anyone else's header is ignored.
  auto it = req.find(kOnBehalfHeader);
  if (caller.uid == 0 && it != req.end()) {
    unsigned uid = 0, gid = 0;
    std::string v(it->value());
    int used = 0;
    if (v.empty() || v[0] == '-' || std::sscanf(v.c_str(), "%u %u%n", &uid, &gid, &used) != 2 ||
        static_cast<std::size_t>(used) != v.size() || v.find('-') != std::string::npos)
      return make_error(ErrorKind::Invalid, std::string(kOnBehalfHeader) + " must be 'UID GID'");
    return identity_for(uid, gid, config_.admin_group);
  }
  return identity_for(caller.uid, caller.gid, config_.admin_group);
}

void Api::handle(const HttpServer::Request& req, const HttpServer::Caller& caller, Responder& out) {
  counters_.requests++;
  // Accounts and groups change; recorded owners are mapped by name afresh every few minutes.
  if (UnixTime now = now_utc(); now - owners_cleared_.load() > kOwnerCacheSeconds) {
    owners_cleared_ = now;
    owners_.clear();
  }
  std::string path;
  Query q = parse_query(HttpServer::target(req), path);
  auto who_r = identity_for_request(req, caller);
  if (!who_r.ok()) return out.send_error(who_r.error());
  const Identity& who = *who_r;
  auto fail = [&](const Error& e) {
    if (e.kind == ErrorKind::Denied) counters_.denied++;
    out.send_error(e);
  };
  const auto verb = req.method();
  using boost::beast::http::verb;

  if (path == "/metrics") {
    std::string m;
    auto line = [&](const char* name, std::uint64_t v) {
      m += std::string(name) + " " + std::to_string(v) + "\n";
    };
    line("recall_requests_total", counters_.requests);
    line("recall_denied_total", counters_.denied);
    line("recall_searches_total", counters_.searches);
    line("recall_imports_total", counters_.imports);
    line("recall_chunks_read_total", stream_counters_.chunks_read);
    line("recall_bytes_served_total", stream_counters_.bytes_served);
    line("recall_checksum_failures_total", stream_counters_.checksum_failures);
    line("recall_files_staged_total", stream_counters_.files_staged);
    line("recall_bytes_staged_total", stream_counters_.bytes_staged);
    line("recall_stage_hits_total", stream_counters_.stage_hits);
    line("recall_chunks_from_tape_total", stream_counters_.chunks_from_tape);
    line("recall_disk_fallbacks_total", stream_counters_.disk_fallbacks);
    if (tape_) {
      const auto st = tape_->scheduler().stats();
      line("recall_staging_requests_total", st.submitted);
      line("recall_staging_requests_failed_total", st.failed);
      line("recall_staging_requests_refused_total", st.refused);
      line("recall_staging_chunks_total", st.chunks_staged);
      line("recall_staging_bytes_total", st.bytes_staged);
      line("recall_staging_cache_hits_total", st.chunks_from_cache);
      line("recall_tape_read_errors_total", st.read_errors);
      line("recall_tape_copy_fallbacks_total", st.fallbacks);
      line("recall_tape_operator_waits_total", st.operator_waits);
      const auto cache = tape_->cache().stats();
      line("recall_staging_cache_bytes", cache.bytes);
      line("recall_staging_cache_entries", cache.entries);
      line("recall_staging_cache_evictions_total", cache.evictions);
      std::uint64_t mounts = 0, records = 0;
      for (const auto& d : tape_->scheduler().drives())
        mounts += d.counters.mounts, records += d.counters.records_read;
      line("recall_tape_mounts_total", mounts);
      line("recall_tape_records_read_total", records);
      line("recall_tape_queue_requests", tape_->scheduler().outstanding());
    }
    return out.send_text(http_status::ok, "text/plain; version=0.0.4", m);
  }
  if (path == "/v1/whoami") {
    return out.send(http_status::ok, {{"uid", who.uid},
                                      {"gid", who.gid},
                                      {"user", who.user},
                                      {"groups", who.groups},
                                      {"admin", who.admin},
                                      {"data_socket", data_socket_path(paths_)}});
  }
  if (path == "/v1/imports" && verb == verb::post) {
    if (!who.admin)
      return fail(make_error(ErrorKind::Denied, "only admins may import: root or members of group '" +
                                                    config_.admin_group + "'"));
    auto body = nlohmann::json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return fail(make_error(ErrorKind::Invalid, "request body is not JSON"));
    // What every kind of import has: the host, the source path, the time, the compression.
    const std::string kind = body.value("kind", "");
    const std::string host = body.value("host", ""), source = body.value("path", "");
    const int zstd_level = body.value("zstd_level", 3);
    std::optional<UnixTime> at;
    if (body.contains("at")) {
      auto t = parse_time(body.value("at", ""));
      if (!t.ok()) return fail(t.error());
      at = *t;
    }
    // A manifest names the host of each set, a restic snapshot its own (--host then filters), a
    // point record on a volume its own.
    if (host.empty() && kind != "manifest" && kind != "restic" && kind != "scan")
      return fail(make_error(ErrorKind::Invalid, "an import needs --host"));
    std::shared_ptr<Job> job;
    if (kind == "scan") {
      import::VolumeScanOptions o;
      if (body.contains("volumes") && body["volumes"].is_array())
        for (const auto& v : body["volumes"])
          if (v.is_string()) o.volumes.push_back(v.get<std::string>());
      o.salvage = body.value("salvage", false);
      if (o.volumes.empty()) return fail(make_error(ErrorKind::Invalid, "a scan needs at least one volume"));
      job = jobs_.start_scan(who.uid, std::move(o));
    } else if (kind == "manifest") {
      import::ManifestImportOptions o;
      o.manifest = source;
      job = jobs_.start_manifest_import(who.uid, std::move(o));
    } else if (kind == "restic") {
      import::ResticImportOptions o;
      o.repo = source;
      o.host = host;
      o.password = body.value("password", "");
      job = jobs_.start_restic_import(who.uid, std::move(o));
    } else if (kind == "tar") {
      import::TarImportOptions o;
      o.host = host;
      o.archive = source;
      o.prefix = body.value("prefix", "/");
      o.zstd_level = zstd_level;
      o.at = at.value_or(0);  // 0: the archive file's modification time
      job = jobs_.start_tar_import(who.uid, std::move(o));
    } else if (kind == "dir") {
      import::DirImportOptions o;
      o.host = host;
      o.source = source;
      o.record_as = body.value("as", "");
      o.cross_filesystems = body.value("cross_filesystems", false);
      o.zstd_level = zstd_level;
      o.threads = body.value("threads", 0);
      o.at = at.value_or(now_utc());
      job = jobs_.start_dir_import(who.uid, std::move(o));
    } else {
      return fail(make_error(ErrorKind::Invalid, "unknown import kind '" + kind + "'"));
    }
    counters_.imports++;
    return out.send(http_status::accepted, JobManager::to_json(*job));
  }
  if (path.rfind("/v1/jobs", 0) == 0) {
    if (path == "/v1/jobs") {
      nlohmann::json list = nlohmann::json::array();
      for (auto& j : jobs_.all())
        if (who.admin || j->owner_uid == who.uid) list.push_back(JobManager::to_json(*j));
      return out.send(http_status::ok, {{"jobs", list}});
    }
    std::uint64_t id = 0;
    std::string_view idtext = std::string_view(path).substr(std::string_view("/v1/jobs/").size());
    std::from_chars(idtext.data(), idtext.data() + idtext.size(), id);
    auto job = jobs_.find(id);
    if (!job || (!who.admin && job->owner_uid != who.uid))
      return fail(make_error(ErrorKind::NotFound, "no job " + std::string(idtext)));
    if (verb == verb::delete_) job->cancel = true;
    return out.send(http_status::ok, JobManager::to_json(*job));
  }

  auto rd = thread_reader(paths_.catalog);
  if (!rd.ok()) return fail(rd.error());
  ReadSnapshot snapshot((*rd)->db());
  service::CatalogView view(**rd, who, owners_);

  if (handle_tape(path, q, req, who, view, **rd, out)) return;
  if (path.rfind("/v1/fs/", 0) == 0) {
    auto where = [this](const store::StoredCopy& c) { return describe_copy(c, tape_.get()); };
    return handle_fs(path, q, view, **rd, owners_, where, out);
  }
  if (path == "/v1/status") {
    auto t = (*rd)->totals();
    if (!t.ok()) return fail(t.error());
    nlohmann::json sets = nlohmann::json::array();
    if (who.admin) {
      auto s = (*rd)->backup_sets(20);
      if (!s.ok()) return fail(s.error());
      for (const auto& b : *s)
        sets.push_back({{"host", b.host},
                        {"importer", b.importer},
                        {"kind", b.kind},
                        {"status", b.status},
                        {"source", b.source},
                        {"started", format_utc(b.started)},
                        {"ended", format_utc(b.ended)},
                        {"point", b.point_at ? format_utc(*b.point_at) : ""},
                        {"stats", nlohmann::json::parse(b.stats, nullptr, false)}});
    }
    nlohmann::json running = nlohmann::json::array();
    for (auto& j : jobs_.all())
      if (who.admin || j->owner_uid == who.uid) running.push_back(JobManager::to_json(*j));
    return out.send(http_status::ok, {{"version", "0.1.0"},
                                      {"home", paths_.home},
                                      {"started", format_utc(started_)},
                                      {"schema", store::kSchemaVersion},
                                      {"you", {{"user", who.user}, {"uid", who.uid}, {"admin", who.admin}}},
                                      {"catalog",
                                       {{"hosts", t->hosts},
                                        {"points", t->points},
                                        {"versions", t->versions},
                                        {"paths", t->nodes},
                                        {"names", t->names},
                                        {"contents", t->contents},
                                        {"chunks", t->chunks},
                                        {"content_bytes", t->content_bytes},
                                        {"chunk_bytes", t->chunk_bytes},
                                        {"stored_bytes", t->stored_bytes},
                                        {"volumes", t->volumes}}},
                                      {"jobs", running},
                                      {"recent_sets", sets}});
  }
  if (path == "/v1/hosts") {
    auto hosts = view.hosts();
    if (!hosts.ok()) return fail(hosts.error());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& h : *hosts) list.push_back(host_json(h));
    return out.send(http_status::ok, {{"hosts", list}});
  }
  if (path == "/v1/points") {
    auto host = need(q, "host");
    if (!host.ok()) return fail(host.error());
    auto pts = view.points(*host);
    if (!pts.ok()) return fail(pts.error());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : *pts) list.push_back(point_json(p, *host));
    return out.send(http_status::ok, {{"points", list}});
  }
  if (path == "/v1/search") {
    counters_.searches++;
    service::SearchQuery sq;
    auto text = need(q, "q");
    if (!text.ok()) return fail(text.error());
    sq.text = *text;
    sq.host = arg(q, "host");
    if (auto t = arg(q, "type"); !t.empty()) {
      sq.type = type_from_name(t);
      if (!sq.type)
        return fail(make_error(ErrorKind::Invalid, "unknown type '" + t + "' (file, dir, symlink...)"));
    }
    auto limit = number(q, "limit", 50, 10000);
    auto offset = number(q, "offset", 0, SIZE_MAX);
    if (!limit.ok()) return fail(limit.error());
    if (!offset.ok()) return fail(offset.error());
    sq.limit = static_cast<std::size_t>(*limit);
    sq.offset = static_cast<std::size_t>(*offset);
    for (auto [name, field] : {std::pair{"after", &sq.after}, std::pair{"before", &sq.before}})
      if (auto t = arg(q, name); !t.empty()) {
        auto at = parse_time(t);
        if (!at.ok()) return fail(at.error());
        *field = *at;
      }
    for (auto [name, field] : {std::pair{"min_size", &sq.min_size}, std::pair{"max_size", &sq.max_size}})
      if (!arg(q, name).empty()) {
        auto n = number(q, name, 0, UINT64_MAX);
        if (!n.ok()) return fail(n.error());
        *field = *n;
      }
    if (auto s = arg(q, "sort"); !s.empty()) {
      auto sort = service::search_sort_from_name(s);
      if (!sort)
        return fail(make_error(ErrorKind::Invalid,
                               "unknown sort '" + s + "' (rank, name, folder, host, at, size, modified)"));
      sq.sort = *sort;
    }
    if (auto o = arg(q, "order"); !o.empty()) {
      if (o != "asc" && o != "desc") return fail(make_error(ErrorKind::Invalid, "order must be asc or desc"));
      sq.descending = o == "desc";
    }
    auto res = view.search(sq);
    if (!res.ok()) return fail(res.error());
    nlohmann::json hits = nlohmann::json::array();
    for (const auto& h : res->hits) {
      hits.push_back(hit_json(h));
      // Where the bytes live, for those who may read them (as /v1/stat).
      if (h.version.meta.type == FileType::Regular && view.may_read(h.version.meta)) {
        auto chunks = view.chunks_of(h.version);
        if (!chunks.ok()) return fail(chunks.error());
        hits.back()["where"] = location_json(*chunks, tape_.get());
      }
    }
    return out.send(http_status::ok, {{"query", *text},
                                      {"mode", res->mode},
                                      {"total", res->total},
                                      {"total_is_estimate", res->total_is_estimate},
                                      {"offset", sq.offset},
                                      {"results", hits}});
  }
  if (path == "/v1/versions") {
    auto host = need(q, "host");
    auto p = need(q, "path");
    if (!host.ok()) return fail(host.error());
    if (!p.ok()) return fail(p.error());
    auto vs = view.versions(*host, *p);
    if (!vs.ok()) return fail(vs.error());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : *vs) list.push_back(version_json(v));
    return out.send(http_status::ok, {{"host", *host}, {"path", *p}, {"versions", list}});
  }
  if (path == "/v1/ls" || path == "/v1/stat" || path == "/v1/content") {
    auto host = need(q, "host");
    if (!host.ok()) return fail(host.error());
    auto at = parse_at(arg(q, "at", "latest"));
    if (!at.ok()) return fail(at.error());
    std::string p = arg(q, "path", "/");
    int want = path == "/v1/stat" ? 0 : kRead;
    auto res = view.resolve(*host, *at, p, want);
    if (!res.ok()) return fail(res.error());
    nlohmann::json point = point_json(res->point, res->host.name);
    if (path == "/v1/stat") {
      nlohmann::json j = meta_json(view.visible_meta(res->version.meta));
      put_bytes(j, "path", res->path);
      j["point"] = point;
      // The hash and the location tell about the content: only for those who may read it.
      if (res->version.meta.type == FileType::Regular && view.may_read(res->version.meta)) {
        auto c = view.content_of(res->version);
        if (!c.ok()) return fail(c.error());
        if (c->whole_sha) j["sha256"] = to_hex(c->sha);
        if (!c->unavailable.empty()) j["unavailable"] = c->unavailable;
        auto chunks = view.chunks_of(res->version);
        if (!chunks.ok()) return fail(chunks.error());
        std::set<std::string> vols, words;
        for (const auto& ch : *chunks)
          for (const auto& copy : ch.copies) {
            vols.insert(copy.volume_kind + ":" + copy.volser);
            words.insert(describe_copy(copy, tape_.get()));
          }
        j["location"] = vols;
        j["where"] = words;
      }
      return out.send(http_status::ok, j);
    }
    if (path == "/v1/ls") {
      auto entries = view.list(*res);
      if (!entries.ok()) return fail(entries.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : *entries) list.push_back(entry_json(e, res->path));
      nlohmann::json j = {{"point", point}, {"entries", list}};
      put_bytes(j, "path", res->path);
      return out.send(http_status::ok, j);
    }
    if (res->version.meta.type != FileType::Regular)
      return fail(make_error(ErrorKind::Invalid,
                             *host + ":" + escape_for_display(res->path) + " is not a regular file"));
    auto c = view.content_of(res->version);
    if (!c.ok()) return fail(c.error());
    auto chunks = view.chunks_of(res->version);
    if (!chunks.ok()) return fail(chunks.error());
    snapshot.end();  // a long stream must not pin the catalog's snapshot
    auto priority = tape::Priority::Restore;
    if (auto it = req.find(kPriorityHeader); it != req.end()) {
      auto p = tape::priority_from_name(std::string(it->value()));
      if (!p)
        return fail(make_error(ErrorKind::Invalid,
                               std::string(kPriorityHeader) + " must be interactive, restore or prefetch"));
      priority = *p;
    }
    ReadRequest rq = read_request(who, priority, res->host.name, res->path, c->id);
    rq.cancelled = [&out] { return out.client_gone(); };
    auto s = stream_content(out, *c, *chunks, source_, rq, stream_counters_);
    if (!s.ok() && !out.responded()) fail(s.error());
    return;  // a failure after the first byte cuts the stream off, which the client detects
  }
  fail(make_error(ErrorKind::NotFound, "no API route " + path));
}

}  // namespace recall::daemon
