#include "tapebridge/library.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tapebridge/tape_format.h"
#include "tapebridge/volume_io.h"

namespace recall::tape {
namespace {

constexpr const char* kStateFile = "library.json";

template <class E, std::size_t N>
std::optional<E> from_name(const std::string& s, const char* const (&names)[N]) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

const char* const kStateNames[] = {"scratch", "filling", "full", "read-only"};
const char* const kPlaceNames[] = {"slot", "drive", "off-site"};

Status write_atomically(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name, tmp = path + ".tmp";
  auto fd = open_volume_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!fd.ok()) return fd.error();
  RECALL_TRY(pwrite_full(fd->get(), text.data(), text.size(), 0, tmp));
  if (::fsync(fd->get()) != 0) return io_error("fsync " + tmp, errno);
  fd->reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename " + tmp, errno);
  auto d = open_volume_file(dir, O_RDONLY | O_DIRECTORY);
  if (d.ok()) (void)::fsync(d->get());
  return {};
}

}  // namespace

const char* to_string(CartridgeState s) { return kStateNames[static_cast<int>(s)]; }
const char* to_string(Place p) { return kPlaceNames[static_cast<int>(p)]; }

std::uint64_t Cartridge::bytes_used() const { return records * kRecordSize; }

nlohmann::json Library::to_json(const Cartridge& c) {
  return {{"volser", c.volser},   {"state", to_string(c.state)},
          {"pool", c.pool},       {"place", to_string(c.place)},
          {"slot", c.slot},       {"drive", c.drive},
          {"records", c.records}, {"capacity_bytes", c.capacity_bytes},
          {"added", c.added},     {"last_mounted", c.last_mounted},
          {"mounts", c.mounts},   {"read_errors", c.read_errors},
          {"note", c.note}};
}

nlohmann::json Library::state_json() const {
  nlohmann::json carts = nlohmann::json::array();
  for (const auto& c : carts_) carts.push_back(to_json(c));
  nlohmann::json reqs = nlohmann::json::array();
  for (const auto& r : requests_)
    reqs.push_back({{"id", r.id},
                    {"volser", r.volser},
                    {"action", r.action},
                    {"reason", r.reason},
                    {"raised", r.raised}});
  return {{"format", 1},
          {"drives", config_.drives},
          {"slots", config_.slots},
          {"prefix", config_.prefix},
          {"timing", config_.timing.to_json()},
          {"cartridges", carts},
          {"operator_requests", reqs},
          {"next_request", next_request_}};
}

Status Library::load_state(const nlohmann::json& j) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::Corrupt, dir_ + "/" + kStateFile + ": " + why);
  };
  if (!j.is_object() || j.value("format", 0) != 1) return bad("not a library state of format 1");
  try {
    config_.drives = j.at("drives").get<std::size_t>();
    config_.slots = j.at("slots").get<std::size_t>();
    config_.prefix = j.value("prefix", config_.prefix);
    config_.timing = TimingModel::from_json(j.value("timing", nlohmann::json::object()));
    for (const auto& c : j.at("cartridges")) {
      Cartridge k;
      k.volser = c.at("volser").get<std::string>();
      RECALL_TRY(check_volser(k.volser));
      auto st = from_name<CartridgeState>(c.at("state").get<std::string>(), kStateNames);
      auto pl = from_name<Place>(c.at("place").get<std::string>(), kPlaceNames);
      if (!st || !pl) return bad("cartridge " + k.volser + " has an unknown state or place");
      k.state = *st;
      k.place = *pl;
      k.pool = c.value("pool", 0);
      k.slot = c.value("slot", -1);
      k.drive = c.value("drive", -1);
      k.records = c.value("records", std::uint64_t{1});
      k.capacity_bytes = c.value("capacity_bytes", config_.timing.capacity_bytes);
      k.added = c.value("added", UnixTime{0});
      k.last_mounted = c.value("last_mounted", UnixTime{0});
      k.mounts = c.value("mounts", std::uint64_t{0});
      k.read_errors = c.value("read_errors", std::uint64_t{0});
      k.note = c.value("note", "");
      carts_.push_back(std::move(k));
    }
    for (const auto& r : j.value("operator_requests", nlohmann::json::array()))
      requests_.push_back({r.at("id").get<std::uint64_t>(), r.at("volser").get<std::string>(),
                           r.at("action").get<std::string>(), r.value("reason", ""),
                           r.value("raised", UnixTime{0})});
    next_request_ = j.value("next_request", std::uint64_t{1});
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  return {};
}

Result<std::unique_ptr<Library>> Library::open(std::string dir, const LibraryConfig& initial,
                                               const LabelFn& label) {
  std::unique_ptr<Library> lib(new Library(std::move(dir)));
  std::ifstream in(lib->dir_ + "/" + kStateFile);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    RECALL_TRY(lib->load_state(nlohmann::json::parse(text.str(), nullptr, false)));
    bool moved = false;
    for (auto& c : lib->carts_) {
      if (c.place != Place::Drive) continue;
      c.place = Place::Slot;
      c.drive = -1;
      moved = true;
    }
    std::lock_guard lk(lib->mu_);
    if (moved) RECALL_TRY(lib->save());
    return lib;
  }
  lib->config_ = initial;
  if (initial.cartridges > initial.slots)
    return make_error(ErrorKind::Invalid, "a library of " + std::to_string(initial.slots) +
                                              " slots cannot hold " + std::to_string(initial.cartridges) +
                                              " cartridges");
  for (std::size_t i = 0; i < initial.cartridges; ++i) {
    char volser[32];
    std::snprintf(volser, sizeof volser, "%s%05zu", initial.prefix.c_str(), i + 1);
    RECALL_TRY(check_volser(volser));
    Status labelled = label(volser);
    // A cartridge file left by a library whose state file was lost keeps its data.
    if (!labelled.ok() && labelled.error().kind != ErrorKind::Conflict) return labelled.error();
    Cartridge c;
    c.volser = volser;
    c.slot = static_cast<int>(i);
    c.capacity_bytes = initial.timing.capacity_bytes;
    c.added = now_utc();
    lib->carts_.push_back(std::move(c));
  }
  std::lock_guard lk(lib->mu_);
  RECALL_TRY(lib->save());
  return lib;
}

Status Library::save() const { return write_atomically(dir_, kStateFile, state_json().dump(1) + "\n"); }

Cartridge* Library::get(const std::string& volser) {
  for (auto& c : carts_)
    if (c.volser == volser) return &c;
  return nullptr;
}

int Library::first_free_slot() const {
  std::vector<bool> used(config_.slots, false);
  for (const auto& c : carts_)
    if (c.in_library() && c.slot >= 0 && static_cast<std::size_t>(c.slot) < used.size()) used[c.slot] = true;
  for (std::size_t i = 0; i < used.size(); ++i)
    if (!used[i]) return static_cast<int>(i);
  return -1;
}

std::vector<Cartridge> Library::cartridges() const {
  std::lock_guard lk(mu_);
  return carts_;
}

std::optional<Cartridge> Library::find(const std::string& volser) const {
  std::lock_guard lk(mu_);
  for (const auto& c : carts_)
    if (c.volser == volser) return c;
  return std::nullopt;
}

std::size_t Library::free_slots() const {
  std::lock_guard lk(mu_);
  std::size_t in = 0;
  for (const auto& c : carts_) in += c.in_library();
  return config_.slots - std::min(config_.slots, in);
}

Status Library::check_out(const std::string& volser, const std::string& note) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (!c) return make_error(ErrorKind::NotFound, "no cartridge " + volser + " in the library's inventory");
  if (c->place == Place::OffSite)
    return make_error(ErrorKind::Conflict, "cartridge " + volser + " is already off-site");
  if (c->place == Place::Drive)
    return make_error(ErrorKind::Conflict,
                      "cartridge " + volser + " is mounted in drive " + std::to_string(c->drive));
  c->place = Place::OffSite;
  c->slot = -1;
  c->note = note;
  return save();
}

Result<bool> Library::check_in(const std::string& volser, const LabelFn& label) {
  RECALL_TRY(check_volser(volser));
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (c && c->in_library())
    return make_error(ErrorKind::Conflict, "cartridge " + volser + " is already in the library");
  const int slot = first_free_slot();
  if (slot < 0)
    return make_error(ErrorKind::Conflict, "the library has no free slot for " + volser +
                                               ": check a cartridge out first (recall volumes check-out)");
  bool added = false;
  if (!c) {
    RECALL_TRY(label(volser));
    Cartridge k;
    k.volser = volser;
    k.capacity_bytes = config_.timing.capacity_bytes;
    k.added = now_utc();
    carts_.push_back(std::move(k));
    c = &carts_.back();
    added = true;
  }
  c->place = Place::Slot;
  c->slot = slot;
  c->note.clear();
  std::erase_if(requests_,
                [&](const OperatorRequest& r) { return r.volser == volser && r.action == "check in"; });
  RECALL_TRY(save());
  return added;
}

Status Library::set_read_only(const std::string& volser, const std::string& note) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (!c) return make_error(ErrorKind::NotFound, "no cartridge " + volser);
  c->state = CartridgeState::ReadOnly;
  c->note = note;
  return save();
}

Result<std::string> Library::writable(int pool, const std::set<std::string>& avoid) {
  std::lock_guard lk(mu_);
  const Cartridge* best = nullptr;
  for (const auto& c : carts_) {
    if (!c.in_library() || avoid.count(c.volser) || c.pool != pool || c.state != CartridgeState::Filling)
      continue;
    if (!best || c.records > best->records) best = &c;  // fill one before starting another
  }
  if (!best)
    for (const auto& c : carts_)
      if (c.in_library() && !avoid.count(c.volser) && c.state == CartridgeState::Scratch) {
        best = &c;
        break;
      }
  if (!best)
    return make_error(ErrorKind::Conflict,
                      "no cartridge left for copy " + std::to_string(pool) +
                          ": check in scratch cartridges (recall volumes check-in VOLSER)");
  return best->volser;
}

Status Library::note_written(const std::string& volser, int pool, std::uint64_t records, bool full) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (!c) return make_error(ErrorKind::NotFound, "no cartridge " + volser);
  if (c->pool != 0 && c->pool != pool)
    return make_error(ErrorKind::Internal, "cartridge " + volser + " holds copy " + std::to_string(c->pool) +
                                               ", not copy " + std::to_string(pool));
  c->pool = pool;
  c->records = records;
  if (c->state == CartridgeState::Scratch || c->state == CartridgeState::Filling)
    c->state = full ? CartridgeState::Full : CartridgeState::Filling;
  return save();
}

Status Library::reconcile(const std::string& volser, int pool, std::uint64_t committed_records, bool sealed) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (!c)
    return make_error(ErrorKind::NotFound,
                      "the catalog names cartridge " + volser + ", which the library lacks");
  bool changed = false;
  if (c->pool != pool && pool != 0) c->pool = pool, changed = true;
  if (committed_records > 1 && c->state == CartridgeState::Scratch)
    c->state = CartridgeState::Filling, changed = true;
  if (sealed && c->state != CartridgeState::Full && c->state != CartridgeState::ReadOnly)
    c->state = CartridgeState::Full, changed = true;
  if (c->records != committed_records && committed_records > 0)
    c->records = committed_records, changed = true;
  return changed ? save() : Status{};
}

Status Library::note_mounted(const std::string& volser, std::size_t drive) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (!c) return make_error(ErrorKind::NotFound, "no cartridge " + volser);
  if (c->place == Place::OffSite)
    return make_error(ErrorKind::Conflict, "cartridge " + volser + " is off-site");
  c->place = Place::Drive;
  c->drive = static_cast<int>(drive);
  c->mounts++;
  c->last_mounted = now_utc();
  return save();
}

Status Library::note_unmounted(const std::string& volser) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (!c) return make_error(ErrorKind::NotFound, "no cartridge " + volser);
  if (c->place == Place::OffSite) return {};
  c->place = Place::Slot;
  c->drive = -1;
  return save();
}

Status Library::note_read_error(const std::string& volser) {
  std::lock_guard lk(mu_);
  Cartridge* c = get(volser);
  if (c) c->read_errors++;  // not worth an fsync on its own: it goes with the next save
  return {};
}

Status Library::withdraw_request(const std::string& volser, const std::string& action) {
  std::lock_guard lk(mu_);
  const auto n = std::erase_if(
      requests_, [&](const OperatorRequest& r) { return r.volser == volser && r.action == action; });
  return n ? save() : Status{};
}

Result<std::uint64_t> Library::raise(const std::string& volser, const std::string& action,
                                     const std::string& reason) {
  std::lock_guard lk(mu_);
  for (const auto& r : requests_)
    if (r.volser == volser && r.action == action) return r.id;
  requests_.push_back({next_request_++, volser, action, reason, now_utc()});
  RECALL_TRY(save());
  return requests_.back().id;
}

std::vector<OperatorRequest> Library::operator_requests() const {
  std::lock_guard lk(mu_);
  return requests_;
}

}  // namespace recall::tape
