// How long tape operations take, and the clock they take it on.
//
// TimingModel is the cost model of one drive type (LTO-8-like by default): the simulated library
// waits for these durations, and the staging scheduler plans and estimates with the same figures.
// ModelClock turns model seconds into real waits scaled by a factor, so tests run in milliseconds
// while the benchmark keeps the proportions of a real library.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace recall::tape {

struct TimingModel {
  std::string media = "LTO-8";
  std::uint64_t capacity_bytes = 12'000'000'000'000ull;  // native capacity of one cartridge
  double mount_s = 21;           // robot: slot to drive (6 s), then load and thread to ready (15 s)
  double unmount_s = 23;         // unload and eject (17 s) once rewound, robot back to the slot (6 s)
  double locate_base_s = 2.5;    // start, stop and settle of any high-speed locate
  double locate_mb_s = 120'000;  // data passed per second while locating (12 TB end to end in 100 s)
  double read_mb_s = 360;
  double write_mb_s = 360;
  double flush_s = 1.5;  // writing the buffer out with a filemark at a commit point, and backhitch

  double mount() const { return mount_s; }
  // Rewinding from `at_record`, then unloading.
  double unmount(std::uint64_t at_record) const;
  // Positioning from one record to another: a locate, or reading through when that is quicker
  // (a short way forward).
  double locate(std::uint64_t from, std::uint64_t to) const;
  double read(std::uint64_t records) const;
  double write(std::uint64_t records) const;
  double flush() const { return flush_s; }

  nlohmann::json to_json() const;
  static TimingModel from_json(const nlohmann::json& j);  // missing fields keep their defaults
};

// Model time. With scale s > 0, spending d model seconds waits s*d real seconds and now() is the
// real time since the clock started divided by s; with s = 0 nothing waits and now() is real time.
class ModelClock {
 public:
  explicit ModelClock(double scale);
  double scale() const { return scale_; }
  double now() const;
  void spend(double model_seconds) const;
  double to_real(double model_seconds) const { return model_seconds * scale_; }

 private:
  double scale_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace recall::tape
