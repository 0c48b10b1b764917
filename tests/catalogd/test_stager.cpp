// ContentSource::read, stream_content and the Stager against a real disk volume: verified bytes, the
// LRU, one staging for many callers, and cancellation that withdraws only work nobody wants.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "catalogd/daemon/content_stream.h"
#include "catalogd/daemon/stager.h"
#include "catalogd/http/http_errors.h"
#include "volume_test_util.h"

namespace recall::daemon {
namespace {

using namespace std::chrono_literals;
using testing::read_whole;
using testing::StoredContent;

class StagerTest : public testing::VolumeFixture {
 protected:
  std::unique_ptr<Stager> make_stager(std::uint64_t cache_bytes = 64 << 20, std::size_t max_files = 1024) {
    return std::make_unique<Stager>(stage_dir_, cache_bytes, source_, counters_, max_files);
  }
  static ReadRequest cancel_when(std::function<bool()> f) {
    ReadRequest rq;
    rq.cancelled = std::move(f);
    return rq;
  }

  // A cancelled() that blocks on its first call until open_gate(), then answers `cancel_after_gate`.
  struct Gate {
    std::promise<void> entered, opened;
    std::shared_future<void> open_future = opened.get_future().share();
    std::atomic<bool> first{true};
    std::atomic<bool> cancel_after_gate{false};
    std::function<bool()> fn() {
      return [this] {
        if (first.exchange(false)) {
          entered.set_value();
          open_future.wait();
        }
        return cancel_after_gate.load();
      };
    }
  };

  VolumeCache volumes_;
  StreamCounters counters_;
  ContentSource source_{volumes_, counters_, nullptr};
};

TEST_F(StagerTest, ReadContentVerifiesAndHandsOverEveryChunk) {
  StoredContent c = add(testing::random_bytes(300'000, 1));
  std::vector<std::uint8_t> got;
  auto s = source_.read(c.content, c.chunks, {}, [&](std::span<const std::uint8_t> d) -> Status {
    got.insert(got.end(), d.begin(), d.end());
    return {};
  });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(got, c.bytes);
  EXPECT_EQ(counters_.chunks_read, c.chunks.size());
}

TEST_F(StagerTest, ReadContentStopsOnCancelAndOnSinkErrors) {
  StoredContent c = add(testing::random_bytes(300'000, 2));
  int calls = 0;
  auto s = source_.read(c.content, c.chunks, cancel_when([&] { return ++calls > 2; }),
                        [](std::span<const std::uint8_t>) -> Status { return {}; });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Cancelled);
  EXPECT_EQ(counters_.chunks_read, 2u);
  s = source_.read(c.content, c.chunks, {}, [](std::span<const std::uint8_t>) -> Status {
    return Error{ErrorKind::Io, "disk full"};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "disk full");
}

std::string header_of(const MemoryResponder& r, const std::string& name) {
  for (const auto& [k, v] : r.headers())
    if (k == name) return v;
  return "(none)";
}

TEST_F(StagerTest, StreamContentAnswersCleanlyWhenTheFirstChunkFails) {
  StoredContent c = add(testing::random_bytes(200'000, 3));
  MemoryResponder ok;
  ASSERT_TRUE(stream_content(ok, c.content, c.chunks, source_, {}, counters_).ok());
  EXPECT_EQ(ok.body(), std::string(c.bytes.begin(), c.bytes.end()));
  // Chunked, so that damage found later can still be told; the size goes in its own header.
  EXPECT_EQ(ok.content_length(), std::nullopt);
  EXPECT_EQ(header_of(ok, "X-Recall-Size"), std::to_string(c.bytes.size()));
  EXPECT_TRUE(ok.trailers().empty());
  EXPECT_EQ(counters_.bytes_served, c.bytes.size());

  StoredContent first_bad = add(testing::random_bytes(200'000, 4));
  corrupt(first_bad.chunks[0]);
  MemoryResponder early;
  auto s = stream_content(early, first_bad.content, first_bad.chunks, source_, {}, counters_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Corrupt);
  EXPECT_FALSE(early.responded());  // the route can still answer with an error status

  StoredContent later_bad = add(testing::random_bytes(200'000, 5));
  corrupt(later_bad.chunks[2]);
  MemoryResponder late;
  s = stream_content(late, later_bad.content, later_bad.chunks, source_, {}, counters_);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(late.streamed());
  EXPECT_EQ(late.body().size(), 2u * (64 << 10));
  // Regression (issue 24): the stream ends with the same error a failure before it would send.
  ASSERT_EQ(late.trailers().size(), 1u);
  EXPECT_EQ(late.trailers()[0].first, kStreamErrorTrailer);
  auto told = error_from_body(nlohmann::json::parse(late.trailers()[0].second));
  ASSERT_TRUE(told);
  EXPECT_EQ(told->kind, ErrorKind::Corrupt);
  EXPECT_EQ(told->message, s.error().message);

  StoredContent empty = add({});
  MemoryResponder none;
  ASSERT_TRUE(stream_content(none, empty.content, empty.chunks, source_, {}, counters_).ok());
  EXPECT_TRUE(none.streamed());
  EXPECT_EQ(header_of(none, "X-Recall-Size"), "0");
}

TEST_F(StagerTest, StagesTheVerifiedBytesAsAReadOnlyDescriptor) {
  StoredContent c = add(testing::random_bytes(300'000, 6));
  auto stager = make_stager();
  auto fd = stager->stage(c.content, c.chunks);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_EQ(read_whole(fd->get()), c.bytes);
  EXPECT_EQ(::fcntl(fd->get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_LT(::write(fd->get(), "x", 1), 0);
  EXPECT_EQ(counters_.files_staged, 1u);
  EXPECT_EQ(counters_.bytes_staged, c.bytes.size());
  // Anonymous: nothing is left in the staging directory to find or to clean up.
  EXPECT_TRUE(std::filesystem::is_empty(stage_dir_));
}

TEST_F(StagerTest, EmptyFile) {
  StoredContent c = add({});
  auto stager = make_stager();
  auto fd = stager->stage(c.content, c.chunks);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_TRUE(read_whole(fd->get()).empty());
}

TEST_F(StagerTest, SecondStageIsACacheHitWithItsOwnOffset) {
  StoredContent c = add(testing::random_bytes(200'000, 7));
  auto stager = make_stager();
  auto a = stager->stage(c.content, c.chunks);
  ASSERT_TRUE(a.ok()) << a.error().message;
  std::uint64_t chunks_read = counters_.chunks_read;
  auto b = stager->stage(c.content, c.chunks);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(counters_.chunks_read, chunks_read);  // not read again
  EXPECT_EQ(counters_.stage_hits, 1u);
  EXPECT_EQ(counters_.files_staged, 1u);
  EXPECT_EQ(read_whole(b->get()), c.bytes);
  char x;
  ASSERT_EQ(::read(a->get(), &x, 1), 1);
  EXPECT_EQ(::lseek(b->get(), 0, SEEK_CUR), 0);  // separate open files, not dups
  auto kept = stager->cached(c.content.id);
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ(read_whole((*kept)->get()), c.bytes);
}

TEST_F(StagerTest, CorruptChunkFailsAndNothingIsKept) {
  StoredContent c = add(testing::random_bytes(300'000, 8));
  corrupt(c.chunks[3]);
  auto stager = make_stager();
  for (int attempt = 0; attempt < 2; ++attempt) {  // the failure is not cached either: read again
    auto fd = stager->stage(c.content, c.chunks);
    ASSERT_FALSE(fd.ok());
    EXPECT_EQ(fd.error().kind, ErrorKind::Corrupt) << fd.error().message;
  }
  EXPECT_EQ(counters_.checksum_failures, 2u);
  EXPECT_EQ(counters_.files_staged, 0u);
  EXPECT_EQ(stager->stats().files, 0u);
  EXPECT_EQ(stager->stats().staging, 0u);
  auto kept = stager->cached(c.content.id);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->has_value());
}

TEST_F(StagerTest, WrongWholeFileHashIsCorrupt) {
  StoredContent c = add(testing::random_bytes(100'000, 9));
  c.content.sha[0] ^= 1;
  auto stager = make_stager();
  auto fd = stager->stage(c.content, c.chunks);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(stager->stats().files, 0u);
}

TEST_F(StagerTest, OfflineVolumeIsNamed) {
  StoredContent c = add(testing::random_bytes(100'000, 10));
  c.chunks[1].copies[0].volume_kind = "tape";
  c.chunks[1].copies[0].volser = "T00042";
  auto stager = make_stager();
  auto fd = stager->stage(c.content, c.chunks);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().kind, ErrorKind::Offline);
  EXPECT_NE(fd.error().message.find("T00042"), std::string::npos) << fd.error().message;
  EXPECT_FALSE(source_.ready_now(c.chunks).ok());
}

TEST_F(StagerTest, CacheEvictsTheLeastRecentlyUsed) {
  std::vector<StoredContent> c;
  for (int i = 0; i < 4; ++i) c.push_back(add(testing::random_bytes(100'000, 20 + i)));
  auto stager = make_stager(300'000);
  for (int i : {0, 1, 2, 0, 3}) ASSERT_TRUE(stager->stage(c[i].content, c[i].chunks).ok()) << i;
  EXPECT_EQ(stager->stats().files, 3u);
  EXPECT_EQ(stager->stats().bytes, 300'000u);
  EXPECT_EQ(counters_.files_staged, 4u);
  auto kept = [&](int i) { return stager->cached(c[i].content.id)->has_value(); };
  EXPECT_TRUE(kept(0));  // used again before 3 came, so 1 was the oldest
  EXPECT_FALSE(kept(1));
  EXPECT_TRUE(kept(2));
  EXPECT_TRUE(kept(3));
  ASSERT_TRUE(stager->stage(c[1].content, c[1].chunks).ok());
  EXPECT_EQ(counters_.files_staged, 5u);  // staged again
}

TEST_F(StagerTest, FileCountIsBoundedToo) {
  std::vector<StoredContent> c;
  for (int i = 0; i < 3; ++i) c.push_back(add(testing::random_bytes(1000, 30 + i)));
  auto stager = make_stager(64 << 20, 2);
  for (auto& x : c) ASSERT_TRUE(stager->stage(x.content, x.chunks).ok());
  EXPECT_EQ(stager->stats().files, 2u);
  EXPECT_FALSE(stager->cached(c[0].content.id)->has_value());
}

TEST_F(StagerTest, BiggerThanTheCacheIsServedButNotKept) {
  StoredContent small = add(testing::random_bytes(50'000, 40));
  StoredContent big = add(testing::random_bytes(300'000, 41));
  auto stager = make_stager(100'000);
  ASSERT_TRUE(stager->stage(small.content, small.chunks).ok());
  for (int i = 0; i < 2; ++i) {
    auto fd = stager->stage(big.content, big.chunks);
    ASSERT_TRUE(fd.ok()) << fd.error().message;
    EXPECT_EQ(read_whole(fd->get()), big.bytes);
  }
  EXPECT_EQ(counters_.files_staged, 3u);
  EXPECT_EQ(stager->stats().files, 1u);  // the small one was not pushed out
  EXPECT_TRUE(stager->cached(small.content.id)->has_value());
}

TEST_F(StagerTest, AnEvictedCopyStaysReadableForWhoHoldsIt) {
  StoredContent a = add(testing::random_bytes(100'000, 50));
  StoredContent b = add(testing::random_bytes(100'000, 51));
  auto stager = make_stager(150'000);
  auto fa = stager->stage(a.content, a.chunks);
  ASSERT_TRUE(fa.ok());
  ASSERT_TRUE(stager->stage(b.content, b.chunks).ok());
  EXPECT_FALSE(stager->cached(a.content.id)->has_value());
  EXPECT_EQ(read_whole(fa->get()), a.bytes);
}

TEST_F(StagerTest, ConcurrentCallersShareOneStaging) {
  StoredContent c = add(testing::random_bytes(2 << 20, 60));
  auto stager = make_stager();
  // Slow the staging down (a few ms per chunk) so that the callers overlap with it.
  auto slow = [] {
    std::this_thread::sleep_for(3ms);
    return false;
  };
  std::vector<std::future<Result<UniqueFd>>> results;
  for (int i = 0; i < 8; ++i)
    results.push_back(std::async(std::launch::async,
                                 [&] { return stager->stage(c.content, c.chunks, cancel_when(slow)); }));
  for (auto& r : results) {
    auto fd = r.get();
    ASSERT_TRUE(fd.ok()) << fd.error().message;
    EXPECT_EQ(read_whole(fd->get()), c.bytes);
  }
  EXPECT_EQ(counters_.files_staged, 1u);
  EXPECT_EQ(counters_.chunks_read, c.chunks.size());
  EXPECT_EQ(counters_.stage_hits, 7u);
}

TEST_F(StagerTest, ACancelledRunnerLeavesTheWorkToThoseStillWaiting) {
  StoredContent c = add(testing::random_bytes(500'000, 70));
  auto stager = make_stager();
  Gate gate;
  gate.cancel_after_gate = true;  // once the gate opens, the first caller has gone away
  auto first = std::async(std::launch::async,
                          [&] { return stager->stage(c.content, c.chunks, cancel_when(gate.fn())); });
  gate.entered.get_future().wait();  // the first caller is staging, between two chunks
  auto second = std::async(std::launch::async, [&] { return stager->stage(c.content, c.chunks); });
  std::this_thread::sleep_for(200ms);  // the second is waiting for that staging
  gate.opened.set_value();
  auto r1 = first.get();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().kind, ErrorKind::Cancelled);
  auto r2 = second.get();
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(read_whole(r2->get()), c.bytes);
  EXPECT_EQ(counters_.files_staged, 1u);
  EXPECT_EQ(stager->stats().files, 1u);
}

TEST_F(StagerTest, WorkNobodyWantsIsWithdrawn) {
  StoredContent c = add(testing::random_bytes(500'000, 80));
  auto stager = make_stager();
  int calls = 0;
  auto fd = stager->stage(c.content, c.chunks, cancel_when([&] { return ++calls > 1; }));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().kind, ErrorKind::Cancelled);
  EXPECT_EQ(counters_.chunks_read, 1u);
  EXPECT_EQ(counters_.files_staged, 0u);
  EXPECT_EQ(stager->stats().files, 0u);
  EXPECT_EQ(stager->stats().staging, 0u);
  auto again = stager->stage(c.content, c.chunks);  // a later caller starts afresh
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(read_whole(again->get()), c.bytes);
}

TEST_F(StagerTest, ACancelledWaiterReturnsWhileTheStagingGoesOn) {
  StoredContent c = add(testing::random_bytes(500'000, 90));
  auto stager = make_stager();
  Gate gate;
  auto first = std::async(std::launch::async,
                          [&] { return stager->stage(c.content, c.chunks, cancel_when(gate.fn())); });
  gate.entered.get_future().wait();
  auto started = std::chrono::steady_clock::now();
  auto waiter = stager->stage(c.content, c.chunks, cancel_when([] { return true; }));
  ASSERT_FALSE(waiter.ok());
  EXPECT_EQ(waiter.error().kind, ErrorKind::Cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  gate.opened.set_value();
  auto r1 = first.get();
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ(read_whole(r1->get()), c.bytes);
}

TEST_F(StagerTest, AFailedStagingFailsEveryWaiter) {
  StoredContent c = add(testing::random_bytes(500'000, 100));
  corrupt(c.chunks[4]);
  auto stager = make_stager();
  Gate gate;
  auto first = std::async(std::launch::async,
                          [&] { return stager->stage(c.content, c.chunks, cancel_when(gate.fn())); });
  gate.entered.get_future().wait();
  auto second = std::async(std::launch::async, [&] { return stager->stage(c.content, c.chunks); });
  std::this_thread::sleep_for(200ms);
  gate.opened.set_value();
  for (auto* f : {&first, &second}) {
    auto r = f->get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt) << r.error().message;
  }
  EXPECT_EQ(counters_.checksum_failures, 1u);  // read once, for both
  EXPECT_EQ(stager->stats().files, 0u);
}

}  // namespace
}  // namespace recall::daemon
