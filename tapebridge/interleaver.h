// Lays chunk blocks of several migration streams onto one cartridge as tape records, each record
// holding bytes of one stream only (tape_format.h), the way ExHPDM interleaved backups into 256 KiB
// superblocks: whichever stream has a full record's worth of data goes to the drive next, so the
// drive streams at full speed however the streams' sources keep up, and a later restore of one
// stream reads its records and skips the others'.
//
// Pure layout: it hands out records to write and, once the caller has written and flushed them,
// the blocks they completed with their locations. It never does I/O, so it is the same for the
// simulated and a real drive. Not thread-safe: one writer thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "tapebridge/tape_format.h"
#include "tapebridge/volume_format.h"

namespace recall::tape {

class StreamInterleaver {
 public:
  // A block whose bytes are all in records taken from the interleaver.
  struct Placed {
    std::uint64_t tag = 0;  // the caller's (a chunk id)
    Digest sha{};
    Codec codec = Codec::None;
    TapeBlockRef ref;
  };

  // Writing starts at record `first_record` (the records before it are committed data, the label
  // included) of a cartridge of `capacity_records` records.
  StreamInterleaver(std::string volser, std::uint64_t first_record, std::uint64_t capacity_records);

  // Queues one chunk block (its stored payload, compressed or not) on stream `stream`. False, and
  // nothing queued, when the cartridge could not take it together with everything still buffered:
  // the caller then takes all records, commits, and goes on with another cartridge.
  bool append(std::uint32_t stream, std::uint64_t tag, const Digest& sha, Codec codec,
              std::uint32_t plain_length, std::span<const std::uint8_t> payload);

  // Records formed so far, in record order (a multiple of kRecordSize bytes), moved out.
  std::vector<std::uint8_t> take_records();
  // Forms records of everything still buffered (the last of each stream short, ending on a block
  // boundary) and returns all records not taken yet. Afterwards nothing is buffered.
  std::vector<std::uint8_t> take_all_records();
  // An end record after everything taken: the cartridge is full and takes no more appends.
  std::vector<std::uint8_t> take_end_record();
  // Blocks completed by the records taken so far. Commit them only once those records are written
  // and flushed.
  std::vector<Placed> take_placed();

  std::uint64_t next_record() const { return next_record_; }  // number of the next record formed
  std::uint64_t buffered_bytes() const;
  std::uint64_t records_left() const { return capacity_ - next_record_; }
  const std::string& volser() const { return volser_; }

 private:
  struct Pending {
    std::uint64_t tag = 0;
    Digest sha{};
    Codec codec = Codec::None;
    std::uint32_t plain_length = 0;
    std::vector<std::uint8_t> payload;
    std::vector<std::uint8_t> bytes;  // the encoded block, once its first record is known
    std::uint32_t emitted = 0;        // bytes already in records
    TapeBlockRef ref;
    std::uint32_t length() const { return static_cast<std::uint32_t>(kHeaderSize + payload.size()); }
  };
  struct Stream {
    std::deque<Pending> blocks;  // not yet wholly in records, oldest first
    std::uint64_t pending = 0;   // their bytes not yet in records
    std::uint64_t seq = 0;       // records of this stream formed on this cartridge
  };
  // Records needed to hold everything buffered, with `extra` more bytes on stream `s`.
  std::uint64_t records_to_drain(std::uint32_t s, std::uint64_t extra) const;
  void form_record(std::uint32_t stream_id, Stream& s);

  const std::string volser_;
  const std::uint64_t capacity_;
  std::uint64_t next_record_;
  std::map<std::uint32_t, Stream> streams_;
  std::vector<std::uint8_t> records_;  // formed, not taken
  std::vector<Placed> formed_;         // completed by records formed but not taken yet
  std::vector<Placed> completed_;      // completed by records already taken
};

}  // namespace recall::tape
