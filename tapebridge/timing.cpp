#include "tapebridge/timing.h"

#include <algorithm>
#include <thread>

#include "tapebridge/tape_format.h"

namespace recall::tape {
namespace {

double bytes_of(std::uint64_t records) {
  return static_cast<double>(records) * static_cast<double>(kRecordSize);
}

}  // namespace

double TimingModel::unmount(std::uint64_t at_record) const {
  return (at_record == 0 ? 0.0 : locate(at_record, 0)) + unmount_s;
}

double TimingModel::locate(std::uint64_t from, std::uint64_t to) const {
  if (from == to) return 0;
  const std::uint64_t distance = from < to ? to - from : from - to;
  const double seek = locate_base_s + bytes_of(distance) / (locate_mb_s * 1e6);
  if (to > from) return std::min(seek, bytes_of(distance) / (read_mb_s * 1e6));  // or just read on
  return seek;
}

double TimingModel::read(std::uint64_t records) const { return bytes_of(records) / (read_mb_s * 1e6); }
double TimingModel::write(std::uint64_t records) const { return bytes_of(records) / (write_mb_s * 1e6); }

nlohmann::json TimingModel::to_json() const {
  return {{"media", media},         {"capacity_bytes", capacity_bytes}, {"mount_s", mount_s},
          {"unmount_s", unmount_s}, {"locate_base_s", locate_base_s},   {"locate_mb_s", locate_mb_s},
          {"read_mb_s", read_mb_s}, {"write_mb_s", write_mb_s},         {"flush_s", flush_s}};
}

TimingModel TimingModel::from_json(const nlohmann::json& j) {
  TimingModel t;
  if (!j.is_object()) return t;
  t.media = j.value("media", t.media);
  t.capacity_bytes = j.value("capacity_bytes", t.capacity_bytes);
  t.mount_s = j.value("mount_s", t.mount_s);
  t.unmount_s = j.value("unmount_s", t.unmount_s);
  t.locate_base_s = j.value("locate_base_s", t.locate_base_s);
  t.locate_mb_s = j.value("locate_mb_s", t.locate_mb_s);
  t.read_mb_s = j.value("read_mb_s", t.read_mb_s);
  t.write_mb_s = j.value("write_mb_s", t.write_mb_s);
  t.flush_s = j.value("flush_s", t.flush_s);
  return t;
}

ModelClock::ModelClock(double scale)
    : scale_(std::max(0.0, scale)), start_(std::chrono::steady_clock::now()) {}

double ModelClock::now() const {
  const double real = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return scale_ > 0 ? real / scale_ : real;
}

void ModelClock::spend(double model_seconds) const {
  if (scale_ <= 0 || model_seconds <= 0) return;
  std::this_thread::sleep_for(std::chrono::duration<double>(model_seconds * scale_));
}

}  // namespace recall::tape
