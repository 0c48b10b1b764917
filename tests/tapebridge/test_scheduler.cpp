// The staging scheduler against the simulated library with real cartridge data: grouping by
// cartridge, one forward pass, sharing, priorities, fairness, limits, copy fallback, operator
// requests, cancellation, drive lending, progress and estimates.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "tape_test_util.h"
#include "tapebridge/scheduler.h"

namespace recall::tape {
namespace {

using testing::TapeChunk;
using testing::TapeRig;

constexpr double kFastScale = 1e-4;  // a 21 s mount takes 2 ms

Requester alice{1001, "alice"}, bob{1002, "bob"};

StageSpec spec_of(const Requester& who, Priority p, const std::vector<const TapeChunk*>& chunks,
                  const std::string& what = "test") {
  StageSpec s;
  s.who = who;
  s.priority = p;
  s.what = what;
  for (const auto* c : chunks) s.chunks.push_back(c->want());
  return s;
}

std::vector<std::uint8_t> take_bytes(StagingScheduler& s, ChunkCache& cache, StagingScheduler::Ticket& t,
                                     std::size_t i) {
  auto pin = s.take(t, i, {});
  EXPECT_TRUE(pin.ok()) << (pin.ok() ? "" : pin.error().message);
  if (!pin.ok()) return {};
  auto plain = cache.read(*pin);
  EXPECT_TRUE(plain.ok()) << (plain.ok() ? "" : plain.error().message);
  return plain.ok() ? *plain : std::vector<std::uint8_t>();
}

bool sched_done(const StagingScheduler& s, std::uint64_t id) {
  auto st = s.status(id);
  return st && st->finished();
}

// Keeps every drive busy (lent) while a test queues requests, so the order the scheduler chose is
// what the test sees, not what happened to arrive first.
struct HoldDrives {
  std::vector<std::unique_ptr<StagingScheduler::Lease>> leases;
  HoldDrives(StagingScheduler& s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto l = s.lend_drive("test", {});
      EXPECT_TRUE(l.ok());
      if (l.ok()) leases.push_back(std::move(*l));
    }
  }
  void release() { leases.clear(); }
};

struct Fixture {
  TapeRig rig;
  std::vector<std::vector<TapeChunk>> carts;  // chunks of R00001, R00002, ...
  std::unique_ptr<StagingScheduler> sched;

  Fixture(std::size_t drives, std::size_t ncarts, std::size_t per_cart, SchedulerConfig cfg = {},
          double scale = kFastScale)
      : rig(drives, ncarts + 2, 512, scale) {
    for (std::size_t c = 0; c < ncarts; ++c) {
      carts.push_back(TapeRig::make_chunks(per_cart, 100 + c));
      rig.write(carts.back(), volser(c));
    }
    sched = std::make_unique<StagingScheduler>(*rig.backend, *rig.library, *rig.cache, cfg);
    sched->start();
  }
  static std::string volser(std::size_t c) { return "R0000" + std::to_string(c + 1); }
};

TEST(StagingScheduler, StagesEveryChunkByteIdenticalMountingEachCartridgeOnce) {
  Fixture f(1, 2, 20);
  std::vector<const TapeChunk*> all;
  for (auto& cart : f.carts)
    for (auto& c : cart) all.push_back(&c);
  std::shuffle(all.begin(), all.end(), std::mt19937(1));
  auto t = f.sched->submit(spec_of(alice, Priority::Restore, all));
  ASSERT_TRUE(t.ok()) << t.error().message;
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(take_bytes(*f.sched, *f.rig.cache, *t, i), all[i]->plain);
  EXPECT_EQ(f.rig.backend->loads().size(), 2u);
  auto st = f.sched->stats();
  EXPECT_EQ(st.chunks_staged, 40u);
  EXPECT_EQ(st.completed, 1u);
  EXPECT_EQ(st.read_errors, 0u);
}

// Requests that arrive interleaved over three cartridges are served cartridge by cartridge, and
// on each in one forward pass.
TEST(StagingScheduler, GroupsRequestsByCartridgeAndReadsForward) {
  Fixture f(1, 3, 12);
  HoldDrives hold(*f.sched, 1);
  std::vector<StagingScheduler::Ticket> tickets;
  std::vector<const TapeChunk*> order;
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < 12; ++i)
    for (std::size_t c = 0; c < 3; ++c) order.push_back(&f.carts[c][i]);
  std::shuffle(order.begin(), order.end(), rng);
  for (const auto* c : order) {
    auto t = f.sched->submit(spec_of(c == order.front() ? alice : bob, Priority::Restore, {c}));
    ASSERT_TRUE(t.ok());
    tickets.push_back(std::move(*t));
  }
  EXPECT_EQ(f.sched->queue().size(), order.size());
  hold.release();
  for (std::size_t i = 0; i < tickets.size(); ++i)
    EXPECT_EQ(take_bytes(*f.sched, *f.rig.cache, tickets[i], 0), order[i]->plain);
  EXPECT_EQ(f.rig.backend->loads().size(), 3u) << "each cartridge mounted once";
  // Reads on each mount go forward only.
  std::uint64_t last = 0;
  for (const auto& l : f.rig.backend->log()) {
    if (l.rfind("load ", 0) == 0) last = 0;
    if (l.rfind("read ", 0) != 0) continue;
    std::uint64_t pos = std::stoull(l.substr(l.find(' ', 5) + 1));
    EXPECT_GE(pos, last) << "the head went back: " << l;
    last = pos;
  }
}

TEST(StagingScheduler, FirstComeFirstServedRemountsForEveryTurn) {
  SchedulerConfig fcfs;
  fcfs.policy = SchedulerConfig::Policy::Fcfs;
  Fixture f(1, 3, 6, fcfs);
  HoldDrives hold(*f.sched, 1);
  std::vector<StagingScheduler::Ticket> tickets;
  std::vector<const TapeChunk*> order;
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t c = 0; c < 3; ++c) order.push_back(&f.carts[c][i]);  // A B C A B C ...
  for (const auto* c : order)
    tickets.push_back(std::move(*f.sched->submit(spec_of(alice, Priority::Restore, {c}))));
  hold.release();
  for (std::size_t i = 0; i < tickets.size(); ++i)
    EXPECT_EQ(take_bytes(*f.sched, *f.rig.cache, tickets[i], 0), order[i]->plain);
  EXPECT_EQ(f.rig.backend->loads().size(), order.size());
}

TEST(StagingScheduler, AChunkWantedTwiceIsReadOnce) {
  Fixture f(1, 1, 8);
  HoldDrives hold(*f.sched, 1);
  std::vector<const TapeChunk*> all;
  for (auto& c : f.carts[0]) all.push_back(&c);
  auto a = f.sched->submit(spec_of(alice, Priority::Restore, all));
  auto b = f.sched->submit(spec_of(bob, Priority::Interactive, all));
  ASSERT_TRUE(a.ok() && b.ok());
  hold.release();
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(take_bytes(*f.sched, *f.rig.cache, *a, i), all[i]->plain);
    EXPECT_EQ(take_bytes(*f.sched, *f.rig.cache, *b, i), all[i]->plain);
  }
  EXPECT_EQ(f.sched->stats().chunks_staged, all.size());
  // A third request finds them all in the cache.
  auto c = f.sched->submit(spec_of(alice, Priority::Restore, all));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(f.sched->wait_all(*c, {}).ok());
  EXPECT_EQ(f.sched->stats().chunks_from_cache, all.size());
  EXPECT_EQ(f.rig.backend->loads().size(), 1u);
}

TEST(StagingScheduler, HigherPriorityCartridgesGetTheDriveFirst) {
  Fixture f(1, 3, 2);
  HoldDrives hold(*f.sched, 1);
  auto p = f.sched->submit(spec_of(alice, Priority::Prefetch, {&f.carts[0][0]}));
  auto r = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[1][0]}));
  auto i = f.sched->submit(spec_of(alice, Priority::Interactive, {&f.carts[2][0]}));
  ASSERT_TRUE(p.ok() && r.ok() && i.ok());
  hold.release();
  ASSERT_TRUE(f.sched->wait_all(*p, {}).ok());
  ASSERT_TRUE(f.sched->wait_all(*r, {}).ok());
  ASSERT_TRUE(f.sched->wait_all(*i, {}).ok());
  EXPECT_EQ(f.rig.backend->loads(), (std::vector<std::string>{"R00003", "R00002", "R00001"}));
}

// Alice asked first for three cartridges, Bob then for one: Bob's comes second, not last.
TEST(StagingScheduler, UsersTakeTurnsForTheDrive) {
  Fixture f(1, 4, 2);
  HoldDrives hold(*f.sched, 1);
  std::vector<StagingScheduler::Ticket> t;
  for (int c = 0; c < 3; ++c)
    t.push_back(std::move(*f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[c][0]}))));
  t.push_back(std::move(*f.sched->submit(spec_of(bob, Priority::Restore, {&f.carts[3][0]}))));
  hold.release();
  for (auto& ticket : t) ASSERT_TRUE(f.sched->wait_all(ticket, {}).ok());
  auto loads = f.rig.backend->loads();
  ASSERT_EQ(loads.size(), 4u);
  EXPECT_EQ(loads[0], "R00001");
  EXPECT_EQ(loads[1], "R00004");
}

// With two drives, one user's many cartridges do not take both while another user waits.
TEST(StagingScheduler, OneUserDoesNotTakeEveryDrive) {
  Fixture f(2, 3, 2);
  HoldDrives hold(*f.sched, 2);
  std::vector<StagingScheduler::Ticket> t;
  t.push_back(std::move(*f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][0]}))));
  t.push_back(std::move(*f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[1][0]}))));
  t.push_back(std::move(*f.sched->submit(spec_of(bob, Priority::Restore, {&f.carts[2][0]}))));
  hold.release();
  for (auto& ticket : t) ASSERT_TRUE(f.sched->wait_all(ticket, {}).ok());
  auto loads = f.rig.backend->loads();
  ASSERT_EQ(loads.size(), 3u);
  std::vector<std::string> first_two(loads.begin(), loads.begin() + 2);
  std::sort(first_two.begin(), first_two.end());
  EXPECT_EQ(first_two, (std::vector<std::string>{"R00001", "R00003"}));
}

TEST(StagingScheduler, RefusesAUserWithTooManyRequestsWaiting) {
  SchedulerConfig cfg;
  cfg.max_requests_per_user = 2;
  Fixture f(1, 1, 3, cfg);
  HoldDrives hold(*f.sched, 1);
  auto a = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][0]}));
  auto b = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][1]}));
  auto c = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][2]}));
  auto d = f.sched->submit(spec_of(bob, Priority::Restore, {&f.carts[0][2]}));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Conflict);
  EXPECT_NE(c.error().message.find("alice has 2 requests"), std::string::npos) << c.error().message;
  EXPECT_TRUE(d.ok()) << "the limit is per user";
  EXPECT_EQ(f.sched->stats().refused, 1u);
}

// Flips one byte of the cartridge file inside the block of `chunk`'s copy on `volser`.
void damage(TapeRig& rig, const TapeChunk& chunk, const std::string& volser) {
  for (const auto& c : chunk.copies) {
    if (c.volser != volser) continue;
    std::fstream file(rig.sim->cartridge_path(volser), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(c.ref.offset + 100));
    char b = 0;
    file.get(b);
    file.seekp(static_cast<std::streamoff>(c.ref.offset + 100));
    file.put(static_cast<char>(b ^ 0x10));
  }
}

TEST(StagingScheduler, ABadCopyFallsOverToTheOtherCopy) {
  TapeRig rig(1, 4, 512, kFastScale);
  auto chunks = TapeRig::make_chunks(6, 42);
  rig.write(chunks, "R00001", 2, 1);
  rig.write(chunks, "R00002", 2, 2);
  damage(rig, chunks[2], "R00001");
  StagingScheduler sched(*rig.backend, *rig.library, *rig.cache, {});
  sched.start();
  std::vector<const TapeChunk*> all;
  for (auto& c : chunks) all.push_back(&c);
  auto t = sched.submit(spec_of(alice, Priority::Restore, all));
  ASSERT_TRUE(t.ok());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(take_bytes(sched, *rig.cache, *t, i), all[i]->plain);
  auto st = sched.stats();
  EXPECT_EQ(st.read_errors, 1u);
  EXPECT_EQ(st.fallbacks, 1u);
  EXPECT_EQ(rig.library->find("R00001")->read_errors, 1u);
  EXPECT_EQ(rig.backend->loads(), (std::vector<std::string>{"R00001", "R00002"}));
}

TEST(StagingScheduler, EveryCopyBadIsOneErrorNamingEachCopy) {
  TapeRig rig(1, 4, 512, kFastScale);
  auto chunks = TapeRig::make_chunks(2, 43);
  rig.write(chunks, "R00001", 1, 1);
  rig.write(chunks, "R00002", 1, 2);
  damage(rig, chunks[0], "R00001");
  damage(rig, chunks[0], "R00002");
  StagingScheduler sched(*rig.backend, *rig.library, *rig.cache, {});
  sched.start();
  auto t = sched.submit(spec_of(alice, Priority::Restore, {&chunks[0], &chunks[1]}));
  ASSERT_TRUE(t.ok());
  auto pin = sched.take(*t, 0, {});
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(pin.error().message.find("copy 1 on R00001"), std::string::npos) << pin.error().message;
  EXPECT_NE(pin.error().message.find("copy 2 on R00002"), std::string::npos) << pin.error().message;
  EXPECT_NE(pin.error().message.find("CRC32"), std::string::npos) << pin.error().message;
  EXPECT_EQ(take_bytes(sched, *rig.cache, *t, 1), chunks[1].plain);
  EXPECT_FALSE(sched.wait_all(*t, {}).ok());
}

TEST(StagingScheduler, AnOffSiteCartridgeWaitsForTheOperatorAndGoesOnAfterCheckIn) {
  TapeRig rig(1, 4, 512, kFastScale);
  auto chunks = TapeRig::make_chunks(3, 44);
  rig.write(chunks, "R00002", 1, 1);
  ASSERT_TRUE(rig.library->check_out("R00002", "vault").ok());
  StagingScheduler sched(*rig.backend, *rig.library, *rig.cache, {});
  sched.start();
  auto t = sched.submit(spec_of(alice, Priority::Interactive, {&chunks[0], &chunks[1]}, "demo:/a"));
  ASSERT_TRUE(t.ok());
  auto s = sched.status(t->id());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, "waiting for operator");
  EXPECT_EQ(s->cartridge, "R00002");
  EXPECT_LT(s->eta_s, 0);
  EXPECT_NE(s->words().find("bring tape R00002 back"), std::string::npos) << s->words();
  auto reqs = rig.library->operator_requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].volser, "R00002");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(rig.backend->loads().empty());
  ASSERT_TRUE(rig.library->check_in("R00002", {}).ok());
  sched.library_changed();
  EXPECT_EQ(take_bytes(sched, *rig.cache, *t, 0), chunks[0].plain);
  EXPECT_EQ(take_bytes(sched, *rig.cache, *t, 1), chunks[1].plain);
  EXPECT_TRUE(rig.library->operator_requests().empty());
  EXPECT_EQ(sched.status(t->id())->state, "done");
}

TEST(StagingScheduler, ACheckedOutCopyFallsBackToTheCopyStillInTheLibrary) {
  TapeRig rig(1, 4, 512, kFastScale);
  auto chunks = TapeRig::make_chunks(3, 45);
  rig.write(chunks, "R00001", 1, 1);
  rig.write(chunks, "R00002", 1, 2);
  ASSERT_TRUE(rig.library->check_out("R00001", "").ok());
  StagingScheduler sched(*rig.backend, *rig.library, *rig.cache, {});
  sched.start();
  auto t = sched.submit(spec_of(alice, Priority::Restore, {&chunks[0], &chunks[2]}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(take_bytes(sched, *rig.cache, *t, 0), chunks[0].plain);
  EXPECT_EQ(take_bytes(sched, *rig.cache, *t, 1), chunks[2].plain);
  EXPECT_EQ(rig.backend->loads(), std::vector<std::string>{"R00002"});
  EXPECT_TRUE(rig.library->operator_requests().empty());
}

// Both copies off-site, the read waits on copy 1's cartridge; copy 2's comes back first.
TEST(StagingScheduler, AnOperatorWaitEndsWhicheverCopyComesBack) {
  TapeRig rig(1, 4, 512, kFastScale);
  auto chunks = TapeRig::make_chunks(2, 46);
  rig.write(chunks, "R00001", 1, 1);
  rig.write(chunks, "R00002", 1, 2);
  ASSERT_TRUE(rig.library->check_out("R00001", "").ok());
  ASSERT_TRUE(rig.library->check_out("R00002", "").ok());
  StagingScheduler sched(*rig.backend, *rig.library, *rig.cache, {});
  sched.start();
  auto t = sched.submit(spec_of(alice, Priority::Restore, {&chunks[0]}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(sched.status(t->id())->cartridge, "R00001");
  ASSERT_TRUE(rig.library->check_in("R00002", {}).ok());
  sched.library_changed();
  EXPECT_EQ(take_bytes(sched, *rig.cache, *t, 0), chunks[0].plain);
  EXPECT_EQ(rig.backend->loads(), std::vector<std::string>{"R00002"});
  EXPECT_TRUE(rig.library->operator_requests().empty()) << "nobody waits for R00001 any more";
}

// A writer never takes a cartridge reads are using, nor one that is off-site.
TEST(StagingScheduler, ALeaseDoesNotTakeACartridgeReadsUse) {
  Fixture f(2, 1, 30, {}, 0.02);  // a mount takes 420 ms: long enough to ask while it runs
  std::vector<const TapeChunk*> all;
  for (auto& c : f.carts[0]) all.push_back(&c);
  auto t = f.sched->submit(spec_of(alice, Priority::Restore, all));
  ASSERT_TRUE(t.ok());
  // Wait until a drive has R00001 (mounting or reading) while reads still wait on it.
  for (int i = 0; i < 400; ++i) {
    auto st = f.sched->status(t->id());
    if (st && (st->state == "mounting" || st->state == "reading" || st->state == "positioning")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto lease = f.sched->lend_drive("migration", {});
  ASSERT_TRUE(lease.ok());
  auto busy = (*lease)->mount("R00001", {});
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().kind, ErrorKind::Conflict);
  EXPECT_NE(busy.error().message.find("in use in drive"), std::string::npos) << busy.error().message;
  ASSERT_TRUE(f.rig.library->check_out("R00003", "").ok());
  f.sched->library_changed();
  auto away = (*lease)->mount("R00003", {});
  ASSERT_FALSE(away.ok());
  EXPECT_NE(away.error().message.find("not in the library"), std::string::npos);
  lease->reset();
  ASSERT_TRUE(f.sched->wait_all(*t, {}).ok());
}

TEST(StagingScheduler, DroppingATicketWithdrawsWhatNobodyElseWants) {
  Fixture f(1, 2, 4);
  HoldDrives hold(*f.sched, 1);
  {
    auto t = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][0], &f.carts[1][0]}));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(f.sched->queue().size(), 1u);
  }
  EXPECT_TRUE(f.sched->queue().empty());
  auto keep = f.sched->submit(spec_of(bob, Priority::Restore, {&f.carts[1][1]}));
  hold.release();
  ASSERT_TRUE(f.sched->wait_all(*keep, {}).ok());
  EXPECT_EQ(f.rig.backend->loads(), std::vector<std::string>{"R00002"});
  EXPECT_EQ(f.sched->stats().cancelled, 1u);
  // A take() whose caller gives up returns Cancelled.
  HoldDrives again(*f.sched, 1);
  auto t = f.sched->submit(spec_of(bob, Priority::Restore, {&f.carts[0][3]}));
  int polls = 0;
  auto pin = f.sched->take(*t, 0, [&] { return ++polls > 2; });
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.error().kind, ErrorKind::Cancelled);
}

TEST(StagingScheduler, ALentDriveIsAskedBackWhenReadsWait) {
  Fixture f(1, 1, 2);
  auto lease = f.sched->lend_drive("migration", {});
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE((*lease)->should_yield());
  auto drives = f.sched->drives();
  EXPECT_EQ(drives[0].activity, "writing");
  EXPECT_EQ(drives[0].lent_to, "migration");
  auto t = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][0]}));
  EXPECT_TRUE((*lease)->should_yield());
  ASSERT_TRUE((*lease)->mount("R00003", {}).ok());  // a scratch cartridge, for writing
  EXPECT_EQ(f.rig.sim->loaded(0), "R00003");
  lease->reset();
  ASSERT_TRUE(f.sched->wait_all(*t, {}).ok());
  EXPECT_EQ(f.rig.sim->loaded(0), "R00001");
}

TEST(StagingScheduler, ALeaseTakesItsCartridgeFromAnIdleDrive) {
  Fixture f(2, 1, 2);
  auto t = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][0]}));
  ASSERT_TRUE(f.sched->wait_all(*t, {}).ok());
  ASSERT_EQ(f.rig.backend->loads().size(), 1u);
  auto lease = f.sched->lend_drive("migration", {});
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->mount("R00001", {}).ok());
  EXPECT_EQ(f.rig.sim->loaded((*lease)->drive()), "R00001");
  EXPECT_FALSE(f.rig.sim->loaded(1 - (*lease)->drive()));
}

TEST(StagingScheduler, ReportsStateInWordsAndAnEta) {
  // Real waits: a mount takes 105 ms, so the test can see it happen.
  Fixture f(1, 2, 3, {}, 0.005);
  auto a = f.sched->submit(spec_of(alice, Priority::Restore, {&f.carts[0][0]}, "demo:/a"));
  auto b = f.sched->submit(spec_of(bob, Priority::Restore, {&f.carts[1][0]}, "demo:/b"));
  ASSERT_TRUE(a.ok() && b.ok());
  std::set<std::string> seen_a;
  bool b_second = false;
  for (int i = 0; i < 400 && !sched_done(*f.sched, a->id()); ++i) {
    auto sa = f.sched->status(a->id());
    auto sb = f.sched->status(b->id());
    ASSERT_TRUE(sa && sb);
    seen_a.insert(sa->state);
    if (sa->state == "mounting") {
      EXPECT_EQ(sa->cartridge, "R00001");
      EXPECT_GT(sa->eta_s, 0);
      EXPECT_NE(sa->words().find("Mounting tape R00001 in drive 0"), std::string::npos) << sa->words();
      if (sb->state == "waiting for drive") {
        EXPECT_EQ(sb->position, 1u);
        EXPECT_GT(sb->eta_s, sa->eta_s);
        EXPECT_NE(sb->words().find("Waiting for tape R00002 \u2014 1st in queue, "), std::string::npos)
            << sb->words();
        b_second = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(seen_a.count("mounting"));
  EXPECT_TRUE(b_second);
  ASSERT_TRUE(f.sched->wait_all(*b, {}).ok());
  EXPECT_EQ(f.sched->status(b->id())->state, "done");
  auto q = f.sched->queue();
  EXPECT_TRUE(q.empty());
}

TEST(StagingScheduler, EstimatesALowerBound) {
  Fixture f(2, 3, 4);
  std::vector<WantedChunk> want;
  for (auto& cart : f.carts)
    for (auto& c : cart) want.push_back(c.want());
  auto est = f.sched->estimate(want);
  ASSERT_EQ(est.cartridges.size(), 3u);
  EXPECT_EQ(est.chunks, 12u);
  const auto& t = f.rig.sim->timing();
  double sum = 0, shortest = 1e300;
  for (const auto& c : est.cartridges) {
    EXPECT_GT(c.pass_model_s, t.mount_s + t.unmount_s);
    sum += c.pass_model_s;
    shortest = std::min(shortest, c.pass_model_s);
  }
  // Three passes on two drives: one drive does two of them, and ends with no unmount.
  EXPECT_GE(est.lower_bound_model_s, 2 * shortest - t.unmount(600));
  EXPECT_LE(est.lower_bound_model_s, sum - shortest);
  EXPECT_FALSE(est.needs_operator);
  ASSERT_TRUE(f.rig.library->check_out("R00003", "").ok());
  f.sched->library_changed();
  EXPECT_TRUE(f.sched->estimate(want).needs_operator);
}

}  // namespace
}  // namespace recall::tape
