// Api::handle_tape: the tape bridge's routes.
//
// GET  /v1/volumes                 disk volumes, cartridges, drives, operator requests (admins)
// POST /v1/volumes/check-out       {"volsers":[...],"note":"..."}: cartridges go off-site (admins)
// POST /v1/volumes/check-in        {"volsers":[...]}: cartridges come back, or new ones join (admins)
// POST /v1/volumes/evict           {"volsers":[...],"copies":N}: disk volumes whose chunks are all
//                                  on tape leave the pool (admins)
// POST /v1/migrations              starts a migration job (admins; migration.h)
// GET  /v1/queue[/ID]              staging requests with place, state and ETA: everyone sees their
//                                  own, admins all, with the drives and the operator's requests
// DELETE /v1/queue/ID              cancels a request made by POST /v1/stage
// POST /v1/stage                   {"files":[{"host","at","path"}...],"priority"}: stage files
//                                  ahead of reading them (restores, prefetch)
// POST /v1/estimate                the same body: what staging them would take, in words too
// GET  /v1/staging?host&at&path    the staging state of one file, in words
// GET  /v1/fs/staging?version=ID   the same for recall-fs (user.recall.staging)
#include <algorithm>
#include <cmath>
#include <set>

#include "catalogd/daemon/api.h"
#include "catalogd/daemon/tape_views.h"
#include "catalogd/http/url.h"
#include "common/paths.h"

namespace recall::daemon {
namespace {

using http_status = boost::beast::http::status;
constexpr std::size_t kMaxStageFiles = 20000;
constexpr auto kDetachedLife = std::chrono::hours(1);

Result<nlohmann::json> body_object(const HttpServer::Request& req) {
  auto body = nlohmann::json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return make_error(ErrorKind::Invalid, "request body is not a JSON object");
  return body;
}

Result<std::vector<std::string>> volsers_of(const nlohmann::json& body) {
  auto it = body.find("volsers");
  if (it == body.end() || !it->is_array() || it->empty())
    return make_error(ErrorKind::Invalid, "name at least one volume (\"volsers\")");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return make_error(ErrorKind::Invalid, "volsers must be strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 4) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  return buf;
}

// The files of a stage or estimate request, resolved for the caller: only what they may read.
struct Wanted {
  std::size_t files = 0;
  std::uint64_t bytes = 0, disk_bytes = 0, staged_bytes = 0, tape_bytes = 0;
  std::vector<tape::WantedChunk> chunks;  // on tape only, not staged, each once
  nlohmann::json skipped = nlohmann::json::array();
  std::string first;  // the first file, for the queue's "what"
};

Result<Wanted> resolve_files(const nlohmann::json& body, service::CatalogView& view, TapeService& tape) {
  std::vector<std::tuple<std::string, std::string, std::string>> files;  // host, at, path
  // A path is a JSON string, or percent-encoded bytes ("path_raw", "paths_raw") for names that are
  // not UTF-8.
  auto path_of = [](const nlohmann::json& v, bool raw) -> Result<std::string> {
    if (!v.is_string()) return make_error(ErrorKind::Invalid, "paths must be strings");
    if (!raw) return v.get<std::string>();
    auto d = url_decode(v.get<std::string>(), false);
    if (!d) return make_error(ErrorKind::Invalid, "a raw path is not percent-encoded");
    return *d;
  };
  if (auto it = body.find("files"); it != body.end() && it->is_array()) {
    for (const auto& f : *it) {
      const bool raw = f.is_object() && f.contains("path_raw");
      if (!f.is_object() || !f.contains("host") || !(f.contains("path") || raw))
        return make_error(ErrorKind::Invalid, "each file needs \"host\" and \"path\"");
      auto p = path_of(raw ? f["path_raw"] : f["path"], raw);
      if (!p.ok()) return p.error();
      files.emplace_back(f.value("host", ""), f.value("at", "latest"), std::move(*p));
    }
  } else if (body.contains("paths") || body.contains("paths_raw")) {
    const bool raw = body.contains("paths_raw");
    const auto& list = raw ? body["paths_raw"] : body["paths"];
    if (!list.is_array()) return make_error(ErrorKind::Invalid, "\"paths\" must be a list");
    for (const auto& v : list) {
      auto p = path_of(v, raw);
      if (!p.ok()) return p.error();
      files.emplace_back(body.value("host", ""), body.value("at", "latest"), std::move(*p));
    }
  } else {
    return make_error(
        ErrorKind::Invalid,
        "name the files: \"files\":[{\"host\",\"at\",\"path\"}] or \"host\", \"at\", \"paths\"");
  }
  if (files.size() > kMaxStageFiles)
    return make_error(ErrorKind::Invalid, "at most " + std::to_string(kMaxStageFiles) + " files per request");
  Wanted w;
  std::set<Digest> seen;
  for (const auto& [host, at_text, path] : files) {
    auto skip = [&](const std::string& why) {
      w.skipped.push_back({{"host", host}, {"path", escape_for_display(path)}, {"reason", why}});
    };
    auto at = parse_at(at_text);
    if (!at.ok()) return at.error();
    auto res = view.resolve(host, *at, path, kRead);
    if (!res.ok()) {
      if (res.error().kind == ErrorKind::Invalid) return res.error();
      skip(res.error().message);
      continue;
    }
    if (res->version.meta.type != FileType::Regular) {
      skip("not a regular file");
      continue;
    }
    auto chunks = view.chunks_of(res->version);
    if (!chunks.ok()) return chunks.error();
    if (w.first.empty()) w.first = host + ":" + escape_for_display(res->path);
    w.files++;
    w.bytes += res->version.meta.size;
    for (const auto& c : *chunks) {
      const bool disk = std::any_of(c.copies.begin(), c.copies.end(),
                                    [](const auto& k) { return k.on_disk() && k.volume_state == "online"; });
      if (disk) {
        w.disk_bytes += c.size;
      } else if (tape.cache().contains(c.sha)) {
        w.staged_bytes += c.size;
      } else {
        w.tape_bytes += c.size;
        if (seen.insert(c.sha).second) w.chunks.push_back(TapeService::wanted(c));
      }
    }
  }
  return w;
}

nlohmann::json estimate_json(const Wanted& w, TapeService& tape) {
  const auto est = tape.scheduler().estimate(w.chunks);
  // Work queued now delays this: as long as the queue's longest wait, shared out over the drives.
  double ahead = 0;
  for (const auto& r : tape.scheduler().queue()) ahead = std::max(ahead, r.eta_s);
  nlohmann::json carts = nlohmann::json::array();
  for (const auto& c : est.cartridges)
    carts.push_back({{"volser", c.volser},
                     {"where", tape.where(c.volser)},
                     {"in_library", c.in_library},
                     {"chunks", c.chunks},
                     {"bytes", c.bytes},
                     {"pass_s", tape.backend().clock().to_real(c.pass_model_s)}});
  const double eta = est.cartridges.empty() ? 0 : est.lower_bound_s + ahead;
  std::string words =
      std::to_string(w.files) + (w.files == 1 ? " file, " : " files, ") + human_bytes(w.bytes);
  if (est.cartridges.empty()) {
    words += w.staged_bytes ? ", on disk or staged: no tape needed" : ", on disk: no tape needed";
  } else {
    words += ", " + std::to_string(est.cartridges.size()) +
             (est.cartridges.size() == 1 ? " tape, " : " tapes, ") + tape::about_duration(eta);
    if (est.needs_operator) words += " once an operator brings back the tapes that are off-site";
  }
  return {{"files", w.files},
          {"bytes", w.bytes},
          {"disk_bytes", w.disk_bytes},
          {"staged_bytes", w.staged_bytes},
          {"tape_bytes", w.tape_bytes},
          {"cartridges", carts},
          {"needs_operator", est.needs_operator},
          {"drives", est.drives},
          {"lower_bound_model_s", est.lower_bound_model_s},
          {"lower_bound_s", est.lower_bound_s},
          {"queue_ahead_s", ahead},
          {"eta_s", eta},
          {"skipped", w.skipped},
          {"words", words}};
}

}  // namespace

void Api::prune_detached() {
  std::vector<tape::StagingScheduler::Ticket> dropped;  // withdrawn after the lock is let go
  std::lock_guard lk(detached_mu_);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = detached_.begin(); it != detached_.end();) {
    auto st = tape_->scheduler().status(it->first);
    if (!st || st->finished() || now > it->second.until) {
      dropped.push_back(std::move(it->second.ticket));
      it = detached_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Api::handle_tape(const std::string& path, const Query& q, const HttpServer::Request& req,
                      const Identity& who, service::CatalogView& view, store::CatalogReader& r,
                      Responder& out) {
  try {
    return handle_tape_routes(path, q, req, who, view, r, out);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type in a request body: the caller's mistake, said as such.
    if (!out.responded())
      out.send_error(make_error(ErrorKind::Invalid, std::string("bad request body: ") + e.what()));
    return true;
  }
}

bool Api::handle_tape_routes(const std::string& path, const Query& q, const HttpServer::Request& req,
                             const Identity& who, service::CatalogView& view, store::CatalogReader& r,
                             Responder& out) {
  const bool ours = path == "/v1/volumes" || path.rfind("/v1/volumes/", 0) == 0 || path == "/v1/queue" ||
                    path.rfind("/v1/queue/", 0) == 0 || path == "/v1/stage" || path == "/v1/estimate" ||
                    path == "/v1/migrations" || path == "/v1/staging" || path == "/v1/fs/staging";
  if (!ours) return false;
  using boost::beast::http::verb;
  const auto method = req.method();
  auto fail = [&](const Error& e) {
    if (e.kind == ErrorKind::Denied) counters_.denied++;
    out.send_error(e);
    return true;
  };
  auto admin_only = [&](const char* what) -> std::optional<Error> {
    if (who.admin) return std::nullopt;
    return make_error(ErrorKind::Denied, std::string("only admins may ") + what +
                                             ": root or members of group '" + config_.admin_group + "'");
  };
  if (!tape_) return fail(make_error(ErrorKind::Offline, "this recalld has no tape library"));

  // ---- what one file's staging looks like ----
  if (path == "/v1/staging" || path == "/v1/fs/staging") {
    std::optional<store::VersionRow> version;
    std::string where_name;
    if (path == "/v1/fs/staging") {
      auto id = number(q, "version", 0, INT64_MAX);
      if (!id.ok()) return fail(id.error());
      auto v = r.version_by_id(static_cast<std::int64_t>(*id));
      if (!v.ok()) return fail(v.error());
      auto readable = view.may_read_version(*v);
      if (!readable.ok()) return fail(readable.error());
      if (!*readable) return fail(make_error(ErrorKind::NotFound, "no version " + std::to_string(*id)));
      version = *v;
    } else {
      auto host = need(q, "host");
      if (!host.ok()) return fail(host.error());
      auto at = parse_at(arg(q, "at", "latest"));
      if (!at.ok()) return fail(at.error());
      auto res = view.resolve(*host, *at, arg(q, "path", "/"), kRead);
      if (!res.ok()) return fail(res.error());
      version = res->version;
    }
    if (version->meta.type != FileType::Regular)
      return fail(make_error(ErrorKind::Invalid, "only regular files are staged"));
    auto content = view.content_of(*version);
    auto chunks = view.chunks_of(*version);
    if (!content.ok()) return fail(content.error());
    if (!chunks.ok()) return fail(chunks.error());
    const std::string tag = "content:" + std::to_string(content->id);
    nlohmann::json j;
    // Another user may wait for the same bytes (contents are shared): they see how it stands,
    // not whose request it is or what it is for.
    for (const auto& s : tape_->scheduler().queue())
      if (s.tag == tag) {
        j = {{"state", s.state}, {"words", s.words()}};
        if (who.admin || s.who.uid == who.uid) j["request"] = s.to_json();
        break;
      }
    if (j.is_null()) {
      if (source_.ready_now(*chunks).ok()) {
        const bool all_disk = std::all_of(chunks->begin(), chunks->end(), [](const auto& c) {
          return std::any_of(c.copies.begin(), c.copies.end(), [](const auto& k) { return k.on_disk(); });
        });
        j = all_disk ? nlohmann::json{{"state", "online"}, {"words", "On disk: reads at once"}}
                     : nlohmann::json{{"state", "staged"}, {"words", "Staged from tape: reads at once"}};
      } else {
        std::vector<tape::WantedChunk> want;
        for (const auto& c : *chunks) want.push_back(TapeService::wanted(c));
        const auto est = tape_->scheduler().estimate(want);
        std::string tapes;
        for (const auto& c : est.cartridges)
          tapes += (tapes.empty() ? "" : ", ") + c.volser + " (" + tape_->where(c.volser) + ")";
        j = {{"state", "on tape"},
             {"words",
              "On tape " + tapes + ": reading it stages it, " + tape::about_duration(est.lower_bound_s)},
             {"eta_s", est.lower_bound_s}};
      }
    }
    out.send(http_status::ok, j);
    return true;
  }

  // ---- volumes (admins) ----
  if (path == "/v1/volumes") {
    if (auto e = admin_only("list volumes")) return fail(*e);
    auto j = volumes_json(r.db(), tape_.get());
    if (!j.ok()) return fail(j.error());
    out.send(http_status::ok, *j);
    return true;
  }
  if (path.rfind("/v1/volumes/", 0) == 0) {
    if (method != verb::post) return fail(make_error(ErrorKind::Invalid, path + " takes POST"));
    if (auto e = admin_only("move or evict volumes")) return fail(*e);
    auto body = body_object(req);
    if (!body.ok()) return fail(body.error());
    auto volsers = volsers_of(*body);
    if (!volsers.ok()) return fail(volsers.error());
    nlohmann::json done = nlohmann::json::array(), added = nlohmann::json::array();
    if (path == "/v1/volumes/check-out") {
      const std::string note =
          body->value("note", "checked out by " + who.user + " on " + format_utc(now_utc()));
      for (const auto& v : *volsers) {
        Status st = tape_->scheduler().release_cartridge(v, [&out] { return out.client_gone(); });
        if (st.ok()) st = tape_->library().check_out(v, note);
        tape_->scheduler().library_changed();
        if (!st.ok()) return fail(make_error(st.error().kind, v + ": " + st.error().message));
        done.push_back(v);
      }
      out.send(http_status::ok, {{"checked_out", done}});
      return true;
    }
    if (path == "/v1/volumes/check-in") {
      for (const auto& v : *volsers) {
        auto in = tape_->library().check_in(
            v, [this](const std::string& volser) { return tape_->backend().label(volser); });
        if (!in.ok()) return fail(make_error(in.error().kind, v + ": " + in.error().message));
        (*in ? added : done).push_back(v);
      }
      tape_->scheduler().library_changed();
      out.send(http_status::ok, {{"checked_in", done}, {"added", added}});
      return true;
    }
    if (path == "/v1/volumes/evict") {
      const int copies = body->value("copies", 1);
      if (copies < 1 || copies > 2) return fail(make_error(ErrorKind::Invalid, "copies must be 1 or 2"));
      auto db = store::Db::open(paths_.catalog, false, false);
      if (!db.ok()) return fail(db.error());
      for (const auto& v : *volsers) {
        auto row = store::volume_by_volser(**db, v);
        if (!row.ok()) return fail(row.error());
        if (!*row) return fail(make_error(ErrorKind::NotFound, "no volume " + v));
        Result<std::int64_t> dropped = std::int64_t{0};
        {
          std::lock_guard writer(jobs_.write_mutex());
          dropped = store::evict_disk_volume(**db, (*row)->id, copies);
        }
        if (!dropped.ok()) return fail(make_error(dropped.error().kind, v + ": " + dropped.error().message));
        ::unlink((*row)->path.c_str());  // then closed: nobody opens it again after that
        volumes_.forget(v);
        done.push_back({{"volser", v}, {"chunks", *dropped}});
      }
      out.send(http_status::ok, {{"evicted", done}});
      return true;
    }
    return fail(make_error(ErrorKind::NotFound, "no API route " + path));
  }
  if (path == "/v1/migrations") {
    if (method != verb::post) return fail(make_error(ErrorKind::Invalid, path + " takes POST"));
    if (auto e = admin_only("migrate")) return fail(*e);
    auto body = body_object(req);
    if (!body.ok()) return fail(body.error());
    MigrateOptions o;
    try {
      o.volumes = body->value("volumes", std::vector<std::string>{});
      o.all = body->value("all", false);
      if (body->contains("older_than")) {
        auto t = parse_time((*body)["older_than"].get<std::string>());
        if (!t.ok()) return fail(t.error());
        o.older_than = *t;
      }
      if (body->contains("pool_above")) o.pool_above = (*body)["pool_above"].get<double>();
      if (body->contains("pool_below")) o.pool_below = (*body)["pool_below"].get<double>();
      o.pool_capacity = body->value("pool_capacity", std::uint64_t{0});
      o.copies = body->value("copies", 1);
      o.keep_disk = body->value("keep_disk", false);
      o.streams = body->value("streams", std::size_t{4});
      const auto commit_mb = body->value("commit_mb", std::int64_t{256});
      if (commit_mb < 1 || commit_mb > (1 << 20))
        return fail(make_error(ErrorKind::Invalid, "--commit-mb must be 1 to 1048576"));
      o.commit_bytes = static_cast<std::uint64_t>(commit_mb) << 20;
    } catch (const nlohmann::json::exception& e) {
      return fail(make_error(ErrorKind::Invalid, std::string("bad migration request: ") + e.what()));
    }
    if (o.copies < 1 || o.copies > 2) return fail(make_error(ErrorKind::Invalid, "--copies must be 1 or 2"));
    auto job = jobs_.start_migration(who.uid, std::move(o));
    if (!job.ok()) return fail(job.error());
    out.send(http_status::accepted, JobManager::to_json(**job));
    return true;
  }

  // ---- the queue ----
  if (path == "/v1/queue" || path.rfind("/v1/queue/", 0) == 0) {
    prune_detached();
    auto visible = [&](const tape::RequestStatus& s) { return who.admin || s.who.uid == who.uid; };
    if (path != "/v1/queue") {
      auto id = number(Query{{"id", path.substr(std::string("/v1/queue/").size())}}, "id", 0, UINT64_MAX);
      if (!id.ok()) return fail(id.error());
      auto st = tape_->scheduler().status(*id);
      if (!st || !visible(*st))
        return fail(make_error(ErrorKind::NotFound, "no staging request " + std::to_string(*id)));
      if (method == verb::delete_) {
        tape::StagingScheduler::Ticket dropped;
        {
          std::lock_guard lk(detached_mu_);
          auto it = detached_.find(*id);
          if (it == detached_.end())
            return fail(make_error(ErrorKind::Conflict,
                                   "request " + std::to_string(*id) +
                                       " belongs to a read in progress: stop that read to cancel it"));
          dropped = std::move(it->second.ticket);
          detached_.erase(it);
        }
        dropped = {};
        st = tape_->scheduler().status(*id);
      }
      out.send(http_status::ok, st->to_json());
      return true;
    }
    nlohmann::json reqs = nlohmann::json::array();
    std::size_t others = 0;
    for (const auto& s : tape_->scheduler().queue()) {
      if (visible(s)) {
        reqs.push_back(s.to_json());
      } else {
        ++others;
      }
    }
    nlohmann::json j = {{"requests", reqs}, {"others", others}};
    if (who.admin) {
      const auto cache = tape_->cache().stats();
      j["drives"] = drives_json(*tape_);
      j["operator_requests"] = operator_requests_json(*tape_);
      j["cache"] = {{"entries", cache.entries},
                    {"bytes", cache.bytes},
                    {"capacity", cache.capacity},
                    {"pinned", cache.pinned}};
      j["model_time_s"] = tape_->backend().clock().now();
      j["time_scale"] = tape_->backend().clock().scale();
    }
    out.send(http_status::ok, j);
    return true;
  }

  // ---- stage and estimate ----
  if (method != verb::post) return fail(make_error(ErrorKind::Invalid, path + " takes POST"));
  auto body = body_object(req);
  if (!body.ok()) return fail(body.error());
  auto wanted = resolve_files(*body, view, *tape_);
  if (!wanted.ok()) return fail(wanted.error());
  if (path == "/v1/estimate") {
    out.send(http_status::ok, estimate_json(*wanted, *tape_));
    return true;
  }
  prune_detached();
  auto priority = tape::priority_from_name(body->value("priority", "restore"));
  if (!priority)
    return fail(make_error(ErrorKind::Invalid, "priority must be interactive, restore or prefetch"));
  // Nobody waits on a detached request right now: it never jumps ahead of reads that do.
  if (*priority == tape::Priority::Interactive) priority = tape::Priority::Restore;
  nlohmann::json j = estimate_json(*wanted, *tape_);
  if (wanted->chunks.empty()) {
    j["id"] = 0;
    j["state"] = "done";
    out.send(http_status::ok, j);
    return true;
  }
  tape::StageSpec spec;
  spec.who = {who.uid, who.user};
  spec.priority = *priority;
  spec.what = wanted->files == 1
                  ? wanted->first
                  : wanted->first + " and " + std::to_string(wanted->files - 1) + " more files";
  spec.chunks = std::move(wanted->chunks);
  spec.hold_pins = false;
  spec.tag = "stage";
  auto ticket = tape_->scheduler().submit(std::move(spec));
  if (!ticket.ok()) return fail(ticket.error());
  const std::uint64_t id = ticket->id();
  {
    std::lock_guard lk(detached_mu_);
    detached_[id] = Detached{std::move(*ticket), who.uid, std::chrono::steady_clock::now() + kDetachedLife};
  }
  j["id"] = id;
  if (auto st = tape_->scheduler().status(id)) {
    j["state"] = st->state;
    j["status"] = st->to_json();
  }
  out.send(http_status::accepted, j);
  return true;
}

}  // namespace recall::daemon
