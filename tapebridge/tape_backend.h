// The physical side of a tape library, as the tape bridge drives it: a changer that moves
// cartridges between their slots and the drives, and drives that position over, read and write
// fixed-size records (tape_format.h). The scheduler and the migration writer see only this
// interface. SimBackend (sim_backend.h) is the embedded default; a backend for Linux `st` drives
// and a SCSI medium changer (MTIOCTOP/MTIOCPOS on /dev/nstN, MOVE MEDIUM through SG_IO) slots in
// behind it without touching the scheduler.
//
// Thread-safety: operations on different drives may run at the same time; one drive is used by
// one thread at a time (the scheduler guarantees it). Every operation blocks for as long as the
// real one would take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "tapebridge/timing.h"

namespace recall::tape {

struct DriveCounters {
  std::uint64_t mounts = 0, unmounts = 0, locates = 0;
  std::uint64_t records_read = 0, records_written = 0, flushes = 0;
  double busy_s = 0;  // model seconds spent in operations
};

class TapeBackend {
 public:
  virtual ~TapeBackend() = default;

  virtual std::size_t drive_count() const = 0;
  // Writes the label record of a new cartridge (a real library mounts it to do so).
  virtual Status label(const std::string& volser) = 0;
  // Moves the cartridge from its slot into the drive, which must be empty, and loads it; the head
  // is at record 0.
  virtual Status load(std::size_t drive, const std::string& volser) = 0;
  // Rewinds, unloads and puts the cartridge back in its slot.
  virtual Status unload(std::size_t drive) = 0;
  virtual Status locate(std::size_t drive, std::uint64_t record) = 0;
  // Reads `count` whole records from the head on; the head moves past them. Reading past the
  // last record written is an error (blank check).
  virtual Result<std::vector<std::uint8_t>> read(std::size_t drive, std::uint64_t count) = 0;
  // Writes whole records at the head (a multiple of kRecordSize bytes). As on tape, whatever was
  // written after them before is gone.
  virtual Status write(std::size_t drive, std::span<const std::uint8_t> records) = 0;
  // Makes everything written durable (the drive's buffer on the medium, a filemark).
  virtual Status flush(std::size_t drive) = 0;

  virtual std::optional<std::string> loaded(std::size_t drive) const = 0;
  virtual std::uint64_t position(std::size_t drive) const = 0;
  virtual DriveCounters counters(std::size_t drive) const = 0;

  // The figures the scheduler plans with, and the clock operations take time on.
  virtual const TimingModel& timing() const = 0;
  virtual const ModelClock& clock() const = 0;
};

}  // namespace recall::tape
