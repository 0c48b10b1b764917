// The tape record format and the stream interleaver that lays blocks into records.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tape_test_util.h"
#include "tapebridge/interleaver.h"
#include "tapebridge/tape_format.h"

namespace recall::tape {
namespace {

using testing::TapeChunk;
using testing::TapeRig;

RecordHeader data_header(std::uint64_t no) {
  RecordHeader h;
  h.volser = "R00001";
  h.record_no = no;
  h.stream_id = 7;
  h.stream_seq = 3;
  h.first_block = 0;
  return h;
}

TEST(TapeRecord, RoundTripsItsFields) {
  std::vector<std::uint8_t> payload(1000, 0x5a);
  auto rec = encode_record(data_header(5), payload);
  ASSERT_EQ(rec.size(), kRecordSize);
  auto h = check_record(rec, "R00001", 5);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->kind, RecordKind::Data);
  EXPECT_EQ(h->stream_id, 7u);
  EXPECT_EQ(h->stream_seq, 3u);
  EXPECT_EQ(h->used, 1000u);
  EXPECT_EQ(h->first_block, 0u);
}

TEST(TapeRecord, DamageAndMisplacementAreCorrupt) {
  auto rec = encode_record(data_header(5), std::vector<std::uint8_t>(1000, 1));
  auto expect_corrupt = [](const Result<RecordHeader>& r, const std::string& words) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  };
  auto flipped = rec;
  flipped[kRecordHeaderSize + 10] ^= 1;
  expect_corrupt(check_record(flipped, "R00001", 5), "CRC32");
  expect_corrupt(check_record(rec, "R00001", 6), "numbered 5");
  expect_corrupt(check_record(rec, "R00002", 5), "belongs to cartridge R00001");
  expect_corrupt(check_record(std::vector<std::uint8_t>(kRecordSize, 0), "R00001", 5), "blank record");
  expect_corrupt(check_record(std::vector<std::uint8_t>(100, 0), "R00001", 5), "record of 100 bytes");
  // Bytes beyond `used` are not covered by the CRC but a header that lies about `used` is caught.
  auto lying = rec;
  lying[28] = 0xff;
  lying[29] = 0xff;
  lying[30] = 0xff;
  expect_corrupt(check_record(lying, "R00001", 5), "claims");
}

TEST(TapeRecord, LabelRecordNamesItsCartridge) {
  auto rec = encode_label_record("R00042", 1700000000);
  auto label = decode_label_record(rec, "R00042");
  ASSERT_TRUE(label.ok()) << label.error().message;
  EXPECT_EQ(label->volser, "R00042");
  EXPECT_EQ(label->created, 1700000000);
  EXPECT_FALSE(decode_label_record(rec, "R00043").ok());
}

TEST(TapeBlockRef, ChecksSpanAgainstLength) {
  TapeBlockRef ok{3 * kRecordSize + kRecordHeaderSize + 100, 1000, {}};
  EXPECT_TRUE(check_block_ref(ok).ok());
  TapeBlockRef needs_span{3 * kRecordSize + kRecordHeaderSize + kRecordPayload - 10, 1000, {}};
  EXPECT_FALSE(check_block_ref(needs_span).ok());
  needs_span.span = {5};
  EXPECT_TRUE(check_block_ref(needs_span).ok());
  needs_span.span = {2};
  EXPECT_FALSE(check_block_ref(needs_span).ok());  // a continuation before the start
  TapeBlockRef in_label{kRecordHeaderSize + 10, 1000, {}};
  EXPECT_FALSE(check_block_ref(in_label).ok());
  TapeBlockRef in_header{3 * kRecordSize + 10, 1000, {}};
  EXPECT_FALSE(check_block_ref(in_header).ok());
  auto blob = encode_span({5, 9, 1ull << 40});
  auto back = decode_span(blob);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<std::uint64_t>{5, 9, 1ull << 40}));
  EXPECT_FALSE(decode_span(std::vector<std::uint8_t>(7)).ok());  // not whole numbers
}

// Streams interleave record by record; every record holds one stream's bytes; every block reads
// back from its location; only full records end inside a block.
TEST(StreamInterleaver, RecordsHoldOneStreamAndBlocksReadBack) {
  std::vector<TapeChunk> chunks = TapeRig::make_chunks(40, 11);
  StreamInterleaver il("R00001", 1, 10'000);
  std::map<std::uint64_t, std::uint32_t> stream_of_tag;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto cc = compress_chunk(chunks[i].plain, 3);
    const std::uint32_t stream = static_cast<std::uint32_t>(i % 3);
    stream_of_tag[i] = stream;
    ASSERT_TRUE(il.append(stream, i, chunks[i].sha, cc.codec, cc.plain_length, cc.payload));
  }
  auto records = il.take_all_records();
  ASSERT_EQ(records.size() % kRecordSize, 0u);
  const std::uint64_t n = records.size() / kRecordSize;
  EXPECT_EQ(il.next_record(), n + 1);
  auto at = [&](std::uint64_t rec) {
    return std::span<const std::uint8_t>(records.data() + (rec - 1) * kRecordSize, kRecordSize);
  };
  std::map<std::uint64_t, std::uint32_t> stream_of_record;
  std::map<std::uint32_t, std::uint64_t> last_seq;
  for (std::uint64_t rec = 1; rec <= n; ++rec) {
    auto h = check_record(at(rec), "R00001", rec);
    ASSERT_TRUE(h.ok()) << h.error().message;
    stream_of_record[rec] = h->stream_id;
    if (last_seq.count(h->stream_id)) {
      EXPECT_EQ(h->stream_seq, last_seq[h->stream_id] + 1);
    }
    last_seq[h->stream_id] = h->stream_seq;
  }
  std::set<std::uint32_t> seen_streams;
  for (auto& [id, rec] : stream_of_record) seen_streams.insert(rec);
  EXPECT_EQ(seen_streams.size(), 3u);

  auto placed = il.take_placed();
  ASSERT_EQ(placed.size(), chunks.size());
  std::size_t spanning = 0;
  std::uint64_t last_block_start = 0;
  for (const auto& p : placed) {
    ASSERT_TRUE(check_block_ref(p.ref).ok());
    for (auto rec : p.ref.records())
      EXPECT_EQ(stream_of_record[rec], stream_of_tag[p.tag]) << "tag " << p.tag;
    spanning += !p.ref.span.empty();
    // Every record but the last of a block is full.
    auto recs = p.ref.records();
    for (std::size_t k = 0; k + 1 < recs.size(); ++k)
      EXPECT_EQ(check_record(at(recs[k]), "R00001", recs[k])->used, kRecordPayload);
    auto block = gather_block(p.ref, at);
    ASSERT_TRUE(block.ok()) << block.error().message;
    auto plain = decode_chunk_block(*block, "R00001", p.sha);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(*plain, chunks[p.tag].plain);
    auto hdr = decode_header(block->data());
    ASSERT_TRUE(hdr.ok());
    EXPECT_EQ(hdr->block_no >> 20, p.ref.first_record());
    last_block_start = std::max(last_block_start, p.ref.offset);
  }
  EXPECT_GT(spanning, 0u) << "the test data should make some blocks span records";
  EXPECT_EQ(il.buffered_bytes(), 0u);
}

TEST(StreamInterleaver, RefusesWhatDoesNotFitAndKeepsRoomForTheEndRecord) {
  const std::uint64_t capacity = 12;
  StreamInterleaver il("R00001", 1, capacity);
  auto chunks = TapeRig::make_chunks(80, 5);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto cc = compress_chunk(chunks[i].plain, 3);
    if (!il.append(static_cast<std::uint32_t>(i % 2), i, chunks[i].sha, cc.codec, cc.plain_length,
                   cc.payload))
      break;
    ++accepted;
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, chunks.size());
  auto records = il.take_all_records();
  auto end = il.take_end_record();
  EXPECT_LE(records.size() / kRecordSize + 1 + 1, capacity);  // label + data + end
  EXPECT_EQ(il.take_placed().size(), accepted);
  auto h = check_record(end, "R00001", il.next_record() - 1);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->kind, RecordKind::End);
}

TEST(StreamInterleaver, BlocksArePlacedOnlyOnceTheirRecordsAreTaken) {
  StreamInterleaver il("R00001", 1, 1000);
  auto chunks = TapeRig::make_chunks(6, 9);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto cc = compress_chunk(chunks[i].plain, 3);
    ASSERT_TRUE(il.append(0, i, chunks[i].sha, cc.codec, cc.plain_length, cc.payload));
  }
  EXPECT_TRUE(il.take_placed().empty());  // nothing taken yet
  auto full = il.take_records();
  auto early = il.take_placed();
  auto rest = il.take_all_records();
  auto late = il.take_placed();
  EXPECT_EQ(early.size() + late.size(), chunks.size());
  EXPECT_FALSE(late.empty());
}

}  // namespace
}  // namespace recall::tape
