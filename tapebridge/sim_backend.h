// The simulated library: each cartridge is a file DIR/VOLSER.tape of records in the tape format,
// each drive a descriptor and a head position, and every operation waits as long as the timing
// model says (scaled by the clock). The bytes are real: what is written can be read back, torn by
// a crash, or damaged by a test, exactly like the file of any other volume.
#pragma once

#include <array>
#include <mutex>
#include <vector>

#include "common/unique_fd.h"
#include "tapebridge/tape_backend.h"

namespace recall::tape {

class SimBackend : public TapeBackend {
 public:
  // `dir` must exist. Cartridges hold timing.capacity_bytes; writing past it is "end of medium".
  SimBackend(std::string dir, std::size_t drives, TimingModel timing, double time_scale);

  std::size_t drive_count() const override { return drives_.size(); }
  Status label(const std::string& volser) override;
  Status load(std::size_t drive, const std::string& volser) override;
  Status unload(std::size_t drive) override;
  Status locate(std::size_t drive, std::uint64_t record) override;
  Result<std::vector<std::uint8_t>> read(std::size_t drive, std::uint64_t count) override;
  Status write(std::size_t drive, std::span<const std::uint8_t> records) override;
  Status flush(std::size_t drive) override;
  std::optional<std::string> loaded(std::size_t drive) const override;
  std::uint64_t position(std::size_t drive) const override;
  DriveCounters counters(std::size_t drive) const override;
  const TimingModel& timing() const override { return timing_; }
  const ModelClock& clock() const override { return clock_; }

  std::string cartridge_path(const std::string& volser) const { return dir_ + "/" + volser + ".tape"; }

 private:
  struct Drive {
    mutable std::mutex mu;  // guards the fields below against readers of state (loaded, position)
    std::optional<std::string> volser;
    std::string loading;  // the cartridge being loaded, until it is
    UniqueFd fd;
    std::uint64_t position = 0;
    std::uint64_t records = 0;  // written on the loaded cartridge: the end of data
    DriveCounters counters;
  };
  Result<Drive*> drive_at(std::size_t drive);
  Result<Drive*> loaded_drive(std::size_t drive);
  void spend(Drive& d, double model_seconds, std::uint64_t DriveCounters::*counter = nullptr);

  const std::string dir_;
  const TimingModel timing_;
  const ModelClock clock_;
  std::vector<std::unique_ptr<Drive>> drives_;
  std::mutex load_mu_;  // load()'s check and claim, across drives
};

}  // namespace recall::tape
