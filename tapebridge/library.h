// The tape library as an inventory: cartridges (volser, media, capacity, state, which copy pool
// they hold, where they are), slots, drives, and the operator queue for cartridges that must be
// brought back. It moves nothing itself (tape_backend.h does); it records what is where, decides
// which cartridge a writer gets, and survives restarts in DIR/library.json, rewritten atomically
// on every change.
//
// Thread-safe: one mutex, never held while calling out (so any caller may hold its own lock), but
// to label a cartridge that check_in() adds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "tapebridge/timing.h"

namespace recall::tape {

enum class CartridgeState { Scratch, Filling, Full, ReadOnly };
enum class Place { Slot, Drive, OffSite };
const char* to_string(CartridgeState s);
const char* to_string(Place p);

struct Cartridge {
  std::string volser;
  CartridgeState state = CartridgeState::Scratch;
  int pool = 0;  // the copy it holds (1 or 2) once written; 0 while scratch
  Place place = Place::Slot;
  int slot = -1;   // its home slot while in the library
  int drive = -1;  // while mounted
  // Records written, the label included, as of the last commit: where the next append goes.
  std::uint64_t records = 1;
  std::uint64_t capacity_bytes = 0;
  UnixTime added = 0, last_mounted = 0;
  std::uint64_t mounts = 0, read_errors = 0;
  std::string note;  // why it is read-only, or where it went

  bool in_library() const { return place != Place::OffSite; }
  std::uint64_t bytes_used() const;
};

// What the operator must do: bring an off-site cartridge back for waiting reads.
struct OperatorRequest {
  std::uint64_t id = 0;
  std::string volser;
  std::string action;  // "check in"
  std::string reason;
  UnixTime raised = 0;
};

struct LibraryConfig {
  std::size_t drives = 2;
  std::size_t slots = 24;
  std::size_t cartridges = 12;  // scratch cartridges a new library starts with
  std::string prefix = "R";     // volsers R00001, R00002, ...
  TimingModel timing;
};

class Library {
 public:
  using LabelFn = std::function<Status(const std::string& volser)>;

  // Reads DIR/library.json, or creates a new library from `initial`, labelling its cartridges with
  // `label`. A library that was running when it stopped has its drives emptied (the simulated
  // drives start empty): mounted cartridges are back in their slots.
  static Result<std::unique_ptr<Library>> open(std::string dir, const LibraryConfig& initial,
                                               const LabelFn& label);

  const LibraryConfig& config() const { return config_; }
  std::vector<Cartridge> cartridges() const;
  std::optional<Cartridge> find(const std::string& volser) const;
  std::size_t free_slots() const;

  // Admin: a cartridge goes off-site (it must not be mounted) or comes back. Checking in a volser
  // the library does not know adds a new scratch cartridge, labelled with `label`; returns true then.
  Status check_out(const std::string& volser, const std::string& note);
  Result<bool> check_in(const std::string& volser, const LabelFn& label);
  Status set_read_only(const std::string& volser, const std::string& note);

  // Writers: a cartridge in the library that takes more data of copy pool `pool`, not in `avoid`:
  // the fullest filling one, else a scratch one (which joins the pool). Conflict when none is left.
  Result<std::string> writable(int pool, const std::set<std::string>& avoid);
  // After a commit: `records` written in all (it now belongs to copy pool `pool`); `full` when it
  // takes no more.
  Status note_written(const std::string& volser, int pool, std::uint64_t records, bool full);
  // Brings the inventory in line with the catalog after a crash between a commit and its save here.
  Status reconcile(const std::string& volser, int pool, std::uint64_t committed_records, bool sealed);

  Status note_mounted(const std::string& volser, std::size_t drive);
  Status note_unmounted(const std::string& volser);
  // Counted in memory; saved with the next change that is saved.
  Status note_read_error(const std::string& volser);
  // Ends an operator request nobody waits for any more.
  Status withdraw_request(const std::string& volser, const std::string& action);

  // Raises a request once per cartridge and action (later calls return the open request's id).
  Result<std::uint64_t> raise(const std::string& volser, const std::string& action,
                              const std::string& reason);
  std::vector<OperatorRequest> operator_requests() const;

  static nlohmann::json to_json(const Cartridge& c);

 private:
  explicit Library(std::string dir) : dir_(std::move(dir)) {}
  Status save() const;  // with mu_ held
  Cartridge* get(const std::string& volser);
  int first_free_slot() const;
  nlohmann::json state_json() const;
  Status load_state(const nlohmann::json& j);

  const std::string dir_;
  mutable std::mutex mu_;
  LibraryConfig config_;
  std::vector<Cartridge> carts_;
  std::vector<OperatorRequest> requests_;
  std::uint64_t next_request_ = 1;
};

}  // namespace recall::tape
