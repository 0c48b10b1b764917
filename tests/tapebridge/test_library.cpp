// The library inventory (cartridges, slots, check-in/out, operator requests, persistence) and the
// simulated backend's drives.
#include <gtest/gtest.h>

#include <filesystem>

#include "tape_test_util.h"
#include "tapebridge/library.h"
#include "tapebridge/sim_backend.h"
#include "tapebridge/tape_format.h"

namespace recall::tape {
namespace {

using testing::TapeRig;

TEST(Library, NewLibraryLabelsItsCartridgesAndSurvivesRestart) {
  TapeRig rig(2, 3);
  auto carts = rig.library->cartridges();
  ASSERT_EQ(carts.size(), 3u);
  EXPECT_EQ(carts[0].volser, "R00001");
  EXPECT_EQ(carts[2].volser, "R00003");
  for (const auto& c : carts) {
    EXPECT_EQ(c.state, CartridgeState::Scratch);
    EXPECT_EQ(c.place, Place::Slot);
    EXPECT_TRUE(std::filesystem::exists(rig.sim->cartridge_path(c.volser)));
  }
  ASSERT_TRUE(rig.library->note_written("R00002", 1, 40, false).ok());
  ASSERT_TRUE(rig.library->note_mounted("R00002", 1).ok());
  ASSERT_TRUE(rig.library->check_out("R00003", "vault").ok());
  // A second open reads the state back; the mounted cartridge is back in its slot.
  LibraryConfig other;
  other.cartridges = 9;
  auto again = Library::open(rig.tmp.path(), other, [](const std::string&) { return Status(); });
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto c2 = (*again)->find("R00002");
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->state, CartridgeState::Filling);
  EXPECT_EQ(c2->records, 40u);
  EXPECT_EQ(c2->place, Place::Slot);
  EXPECT_EQ(c2->mounts, 1u);
  EXPECT_EQ((*again)->find("R00003")->place, Place::OffSite);
  EXPECT_EQ((*again)->cartridges().size(), 3u);
}

TEST(Library, CheckOutAndInMoveCartridgesAndAddNewOnes) {
  TapeRig rig(1, 2);  // 6 slots
  EXPECT_EQ(rig.library->check_out("R00009", "").error().kind, ErrorKind::NotFound);
  ASSERT_TRUE(rig.library->check_out("R00001", "to the vault").ok());
  EXPECT_EQ(rig.library->check_out("R00001", "").error().kind, ErrorKind::Conflict);
  auto back = rig.library->check_in("R00001", [&](const std::string& v) { return rig.sim->label(v); });
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(*back);
  EXPECT_EQ(rig.library->find("R00001")->place, Place::Slot);
  EXPECT_EQ(rig.library->check_in("R00001", {}).error().kind, ErrorKind::Conflict);
  // An unknown volser is a new scratch cartridge, labelled.
  auto added = rig.library->check_in("R00077", [&](const std::string& v) { return rig.sim->label(v); });
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(*added);
  EXPECT_TRUE(std::filesystem::exists(rig.sim->cartridge_path("R00077")));
  EXPECT_EQ(rig.library->find("R00077")->state, CartridgeState::Scratch);
  EXPECT_EQ(rig.library->check_in("bad volser!", {}).error().kind, ErrorKind::Invalid);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(
        rig.library
            ->check_in("R0010" + std::to_string(i), [&](const std::string& v) { return rig.sim->label(v); })
            .ok());
  auto full = rig.library->check_in("R00200", [&](const std::string& v) { return rig.sim->label(v); });
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().kind, ErrorKind::Conflict);
  EXPECT_NE(full.error().message.find("no free slot"), std::string::npos);
}

TEST(Library, WritersFillOneCartridgePerPoolBeforeTakingScratch) {
  TapeRig rig(1, 4);
  auto first = rig.library->writable(1, {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "R00001");
  ASSERT_TRUE(rig.library->reconcile("R00001", 1, 1, false).ok());  // joins pool 1
  ASSERT_TRUE(rig.library->note_written("R00001", 1, 10, false).ok());
  EXPECT_EQ(*rig.library->writable(1, {}), "R00001");
  // Pool 2 never shares a cartridge with pool 1.
  auto second = rig.library->writable(2, {});
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, "R00001");
  EXPECT_EQ(*rig.library->writable(1, {"R00001"}), *second);  // avoided: a scratch one
  ASSERT_TRUE(rig.library->note_written("R00001", 1, 99, true).ok());
  EXPECT_EQ(rig.library->find("R00001")->state, CartridgeState::Full);
  EXPECT_NE(*rig.library->writable(1, {}), "R00001");
  ASSERT_TRUE(rig.library->set_read_only("R00002", "worn").ok());
  ASSERT_TRUE(rig.library->check_out("R00003", "").ok());
  ASSERT_TRUE(rig.library->check_out("R00004", "").ok());
  auto none = rig.library->writable(1, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("check in scratch cartridges"), std::string::npos);
}

TEST(Library, OperatorRequestsAreRaisedOnceAndEndWithTheCheckIn) {
  TapeRig rig(1, 2);
  ASSERT_TRUE(rig.library->check_out("R00002", "vault").ok());
  auto a = rig.library->raise("R00002", "check in", "needed");
  auto b = rig.library->raise("R00002", "check in", "needed again");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(rig.library->operator_requests().size(), 1u);
  ASSERT_TRUE(rig.library->check_in("R00002", {}).ok());
  EXPECT_TRUE(rig.library->operator_requests().empty());
}

TEST(SimBackend, DrivesHoldOneCartridgeEachAndWriteLikeTape) {
  TapeRig rig(2, 2, 6);  // cartridges of 6 records
  SimBackend& sim = *rig.sim;
  ASSERT_TRUE(sim.load(0, "R00001").ok());
  EXPECT_EQ(sim.load(1, "R00001").error().kind, ErrorKind::Conflict);
  EXPECT_EQ(sim.load(0, "R00002").error().kind, ErrorKind::Conflict);
  EXPECT_EQ(sim.loaded(0), "R00001");
  auto label = sim.read(0, 1);
  ASSERT_TRUE(label.ok());
  EXPECT_TRUE(decode_label_record(*label, "R00001").ok());
  EXPECT_FALSE(sim.read(0, 1).ok());  // blank check past the end of data
  RecordHeader h;
  h.volser = "R00001";
  std::vector<std::uint8_t> recs;
  for (int i = 1; i <= 3; ++i) {
    h.record_no = i;
    append_record(recs, h, std::vector<std::uint8_t>(10, static_cast<std::uint8_t>(i)));
  }
  ASSERT_TRUE(sim.locate(0, 1).ok());
  ASSERT_TRUE(sim.write(0, recs).ok());
  ASSERT_TRUE(sim.flush(0).ok());
  EXPECT_EQ(sim.position(0), 4u);
  // Writing at record 2 again makes record 3 unreadable, as on tape.
  ASSERT_TRUE(sim.locate(0, 2).ok());
  ASSERT_TRUE(sim.write(0, std::span<const std::uint8_t>(recs.data() + kRecordSize, kRecordSize)).ok());
  ASSERT_TRUE(sim.locate(0, 3).ok());
  EXPECT_FALSE(sim.read(0, 1).ok());
  // No locating past the end of data (record 3 is gone), and no writing past the end of medium.
  EXPECT_EQ(sim.locate(0, 5).error().kind, ErrorKind::Corrupt);
  ASSERT_TRUE(sim.locate(0, 3).ok());
  ASSERT_TRUE(sim.write(0, recs).ok());  // records 3, 4, 5: the cartridge is full
  EXPECT_EQ(sim.write(0, std::span<const std::uint8_t>(recs.data(), kRecordSize)).error().kind,
            ErrorKind::Conflict);
  ASSERT_TRUE(sim.unload(0).ok());
  EXPECT_FALSE(sim.loaded(0));
  auto c = sim.counters(0);
  EXPECT_EQ(c.mounts, 1u);
  EXPECT_EQ(c.unmounts, 1u);
  EXPECT_GT(c.busy_s, 21.0);  // a mount alone is 21 model seconds
}

TEST(TimingModel, ReadsThroughShortGapsAndLocatesOverLongOnes) {
  TimingModel t;
  EXPECT_EQ(t.locate(10, 10), 0);
  EXPECT_LT(t.locate(10, 12), 0.01);  // two records: read through
  EXPECT_NEAR(t.locate(10, 100000), t.locate_base_s + 100000.0 * kRecordSize / 120e9, 0.01);
  EXPECT_GT(t.locate(100, 10), t.locate_base_s);  // backwards is always a locate
  EXPECT_GT(t.unmount(1000), t.unmount_s);
  auto back = TimingModel::from_json(t.to_json());
  EXPECT_EQ(back.mount_s, t.mount_s);
  EXPECT_EQ(back.capacity_bytes, t.capacity_bytes);
}

}  // namespace
}  // namespace recall::tape
