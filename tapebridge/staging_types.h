// What a read asks of the tape bridge, and how its request stands: the vocabulary shared by the
// staging scheduler (scheduler.h) and the daemon that submits to it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.h"
#include "tapebridge/tape_backend.h"
#include "tapebridge/tape_format.h"

namespace recall::tape {

// Who waits, most urgent first: a read blocked in a program right now, a restore job, a prefetch.
enum class Priority : int { Interactive = 0, Restore = 1, Prefetch = 2 };
const char* to_string(Priority p);
// "about 40 s", "about 3 min", "less than a second"; "" for a negative (unknown) time.
std::string about_duration(double seconds);
std::optional<Priority> priority_from_name(std::string_view name);

// One stored copy of a chunk on a cartridge.
struct TapeCopy {
  std::string volser;
  int copy = 1;
  TapeBlockRef ref;
};

struct WantedChunk {
  Digest sha{};
  std::uint64_t size = 0;        // plain bytes, for progress
  std::vector<TapeCopy> copies;  // in the order to try them
};

struct Requester {
  std::uint32_t uid = 0;
  std::string user;
};

struct StageSpec {
  Requester who;
  Priority priority = Priority::Restore;
  std::string what;  // shown in the queue: "demo:/home/alice/budget.ods", "restore of 3 files"
  std::vector<WantedChunk> chunks;
  // Readers keep every chunk pinned in the cache from its arrival until they take it. A prefetch
  // does not: its chunks land like any others and may be evicted before anyone reads them.
  bool hold_pins = true;
  std::string tag;  // the submitter's key for finding it again ("content:17")
};

// Where a request stands, for the queue, the mount's xattr and the browser.
struct RequestStatus {
  std::uint64_t id = 0;
  Requester who;
  Priority priority = Priority::Restore;
  std::string what;
  std::string tag;
  // waiting for operator | waiting for drive | mounting | positioning | reading | done | failed | cancelled
  std::string state;
  std::string cartridge;     // the cartridge the state is about ("" when none)
  int drive = -1;            // the drive the state is about
  std::size_t position = 0;  // 1-based place in the line for a drive; 0 when its cartridges are mounted
  double eta_model_s =
      0;                // until every chunk is staged, in model seconds (-1: unknown, an operator must act)
  double eta_s = 0;     // the same in real seconds
  double waited_s = 0;  // real seconds since it was submitted
  std::size_t chunks = 0, chunks_done = 0;
  std::uint64_t bytes = 0, bytes_done = 0;
  std::vector<std::string> cartridges;  // every cartridge it still needs
  std::string error;

  bool finished() const { return state == "done" || state == "failed" || state == "cancelled"; }
  // In plain words: "Waiting for tape R00042 - 2nd in queue, about 40 s".
  std::string words() const;
  nlohmann::json to_json() const;
};

struct DriveStatus {
  std::size_t drive = 0;
  std::string activity;  // idle | mounting | unmounting | positioning | reading | writing
  std::string cartridge;
  std::uint64_t position = 0;
  std::string lent_to;  // a migration writing on it
  DriveCounters counters;
  nlohmann::json to_json() const;
};

// What staging a set of chunks would take: cartridges, bytes, and the model's estimate.
struct StageEstimate {
  struct Cartridge {
    std::string volser;
    bool in_library = true;
    std::size_t chunks = 0;
    std::uint64_t bytes = 0;
    double pass_model_s =
        0;  // mount (unless it is in a drive), one forward pass over what is needed, unmount
  };
  std::vector<Cartridge> cartridges;
  std::size_t chunks = 0;
  std::uint64_t bytes = 0;
  std::size_t drives = 0;
  // Each needed cartridge mounted once and read in one forward pass, the passes shared out over
  // the drives as evenly as whole passes allow (the best split, found exactly for two drives),
  // each drive's last unmount left out: no schedule can do better.
  double lower_bound_model_s = 0;
  double lower_bound_s = 0;     // in real seconds
  bool needs_operator = false;  // some chunk has no copy in the library
  nlohmann::json to_json() const;
};

}  // namespace recall::tape
