#include "tapebridge/interleaver.h"

#include <algorithm>
#include <cstring>

namespace recall::tape {
namespace {

std::uint64_t records_for(std::uint64_t bytes) { return (bytes + kRecordPayload - 1) / kRecordPayload; }

}  // namespace

StreamInterleaver::StreamInterleaver(std::string volser, std::uint64_t first_record,
                                     std::uint64_t capacity_records)
    : volser_(std::move(volser)),
      capacity_(capacity_records),
      next_record_(std::max<std::uint64_t>(first_record, 1)) {}

std::uint64_t StreamInterleaver::buffered_bytes() const {
  std::uint64_t n = 0;
  for (const auto& [id, s] : streams_) n += s.pending;
  return n;
}

std::uint64_t StreamInterleaver::records_to_drain(std::uint32_t stream, std::uint64_t extra) const {
  std::uint64_t n = 0;
  bool seen = false;
  for (const auto& [id, s] : streams_) {
    n += records_for(s.pending + (id == stream ? extra : 0));
    seen |= id == stream;
  }
  if (!seen) n += records_for(extra);
  return n;
}

bool StreamInterleaver::append(std::uint32_t stream, std::uint64_t tag, const Digest& sha, Codec codec,
                               std::uint32_t plain_length, std::span<const std::uint8_t> payload) {
  const std::uint64_t length = kHeaderSize + payload.size();
  // One record stays free for the end record that seals a full cartridge.
  if (next_record_ + records_to_drain(stream, length) + 1 > capacity_) return false;
  Stream& s = streams_[stream];
  Pending p;
  p.tag = tag;
  p.sha = sha;
  p.codec = codec;
  p.plain_length = plain_length;
  p.payload.assign(payload.begin(), payload.end());
  s.blocks.push_back(std::move(p));
  s.pending += length;
  while (s.pending >= kRecordPayload) form_record(stream, s);
  return true;
}

// Fills one record from the head of the stream's queue: a full record when the stream has that
// much (and may end inside a block), otherwise a short one holding everything left.
void StreamInterleaver::form_record(std::uint32_t stream_id, Stream& s) {
  const std::uint64_t rec = next_record_++;
  std::vector<std::uint8_t> payload;
  payload.reserve(std::min<std::uint64_t>(s.pending, kRecordPayload));
  RecordHeader h;
  h.kind = RecordKind::Data;
  h.volser = volser_;
  h.record_no = rec;
  h.stream_id = stream_id;
  h.stream_seq = s.seq++;
  std::uint64_t ordinal = 0;  // of the blocks that start in this record
  while (payload.size() < kRecordPayload && !s.blocks.empty()) {
    Pending& b = s.blocks.front();
    if (b.emitted == 0) {
      // The block's number says where it starts: unique on the cartridge, increasing along the tape.
      append_block_bytes(b.bytes, BlockType::Chunk, b.codec, volser_, (rec << 20) | ordinal++, b.plain_length,
                         b.sha, b.payload);
      b.payload.clear();
      b.payload.shrink_to_fit();
      b.ref.offset = rec * kRecordSize + kRecordHeaderSize + payload.size();
      b.ref.length = static_cast<std::uint32_t>(b.bytes.size());
      if (h.first_block == kNoBlockStart) h.first_block = static_cast<std::uint32_t>(payload.size());
    } else {
      b.ref.span.push_back(rec);
    }
    const std::size_t n = std::min<std::size_t>(b.bytes.size() - b.emitted, kRecordPayload - payload.size());
    payload.insert(payload.end(), b.bytes.begin() + b.emitted, b.bytes.begin() + b.emitted + n);
    b.emitted += static_cast<std::uint32_t>(n);
    s.pending -= n;
    if (b.emitted == b.bytes.size()) {
      formed_.push_back({b.tag, b.sha, b.codec, std::move(b.ref)});
      s.blocks.pop_front();
    }
  }
  append_record(records_, h, payload);
}

std::vector<std::uint8_t> StreamInterleaver::take_records() {
  completed_.insert(completed_.end(), std::make_move_iterator(formed_.begin()),
                    std::make_move_iterator(formed_.end()));
  formed_.clear();
  return std::exchange(records_, {});
}

std::vector<std::uint8_t> StreamInterleaver::take_all_records() {
  for (auto& [id, s] : streams_)
    while (s.pending > 0) form_record(id, s);
  return take_records();
}

std::vector<std::uint8_t> StreamInterleaver::take_end_record() {
  RecordHeader h;
  h.kind = RecordKind::End;
  h.volser = volser_;
  h.record_no = next_record_++;
  return encode_record(h, {});
}

std::vector<StreamInterleaver::Placed> StreamInterleaver::take_placed() {
  return std::exchange(completed_, {});
}

}  // namespace recall::tape
