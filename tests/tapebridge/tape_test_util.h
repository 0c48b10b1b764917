// A simulated tape library in a temp dir, and chunks written onto its cartridges for real (through
// the interleaver and the simulated drives), for tests of the library, the cache and the scheduler.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "tapebridge/chunk_cache.h"
#include "tapebridge/interleaver.h"
#include "tapebridge/library.h"
#include "tapebridge/sim_backend.h"
#include "tapebridge/staging_types.h"

namespace recall::testing {

class TapeTempDir {
 public:
  TapeTempDir() {
    std::string templ = "/tmp/recall-tape-XXXXXX";
    path_ = ::mkdtemp(templ.data());
  }
  ~TapeTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::vector<std::uint8_t> tape_random_bytes(std::size_t n, std::uint64_t seed,
                                                   bool compressible = false) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = compressible ? static_cast<std::uint8_t>("abcd"[rng() % 4]) : rng();
  return out;
}

// Logs what the library is asked to do ("load R00001 0", "unload 0"...) and forwards it.
class RecordingBackend : public tape::TapeBackend {
 public:
  explicit RecordingBackend(tape::TapeBackend& inner) : inner_(inner) {}
  std::vector<std::string> log() const {
    std::lock_guard lk(mu_);
    return log_;
  }
  std::vector<std::string> loads() const {
    std::vector<std::string> out;
    for (const auto& l : log())
      if (l.rfind("load ", 0) == 0) out.push_back(l.substr(5, l.find(' ', 5) - 5));
    return out;
  }
  std::size_t drive_count() const override { return inner_.drive_count(); }
  Status label(const std::string& v) override { return inner_.label(v); }
  Status load(std::size_t d, const std::string& v) override {
    note("load " + v + " " + std::to_string(d));
    return inner_.load(d, v);
  }
  Status unload(std::size_t d) override {
    note("unload " + std::to_string(d));
    return inner_.unload(d);
  }
  Status locate(std::size_t d, std::uint64_t r) override {
    note("locate " + std::to_string(d) + " " + std::to_string(r));
    return inner_.locate(d, r);
  }
  Result<std::vector<std::uint8_t>> read(std::size_t d, std::uint64_t n) override {
    note("read " + std::to_string(d) + " " + std::to_string(inner_.position(d)) + " " + std::to_string(n));
    return inner_.read(d, n);
  }
  Status write(std::size_t d, std::span<const std::uint8_t> r) override { return inner_.write(d, r); }
  Status flush(std::size_t d) override { return inner_.flush(d); }
  std::optional<std::string> loaded(std::size_t d) const override { return inner_.loaded(d); }
  std::uint64_t position(std::size_t d) const override { return inner_.position(d); }
  tape::DriveCounters counters(std::size_t d) const override { return inner_.counters(d); }
  const tape::TimingModel& timing() const override { return inner_.timing(); }
  const tape::ModelClock& clock() const override { return inner_.clock(); }

 private:
  void note(std::string s) {
    std::lock_guard lk(mu_);
    log_.push_back(std::move(s));
  }
  tape::TapeBackend& inner_;
  mutable std::mutex mu_;
  std::vector<std::string> log_;
};

struct TapeChunk {
  Digest sha{};
  std::vector<std::uint8_t> plain;
  std::vector<tape::TapeCopy> copies;
  tape::WantedChunk want() const { return {sha, plain.size(), copies}; }
};

struct TapeRig {
  TapeTempDir tmp;
  std::unique_ptr<tape::SimBackend> sim;
  std::unique_ptr<RecordingBackend> backend;
  std::unique_ptr<tape::Library> library;
  std::unique_ptr<tape::ChunkCache> cache;

  explicit TapeRig(std::size_t drives = 1, std::size_t cartridges = 4, std::uint64_t capacity_records = 256,
                   double scale = 0, std::uint64_t cache_bytes = 64u << 20) {
    tape::TimingModel t;
    t.capacity_bytes = capacity_records * tape::kRecordSize;
    std::filesystem::create_directories(tmp.path() + "/cartridges");
    sim = std::make_unique<tape::SimBackend>(tmp.path() + "/cartridges", drives, t, scale);
    backend = std::make_unique<RecordingBackend>(*sim);
    tape::LibraryConfig cfg;
    cfg.drives = drives;
    cfg.cartridges = cartridges;
    cfg.slots = cartridges + 4;
    cfg.timing = t;
    auto lib = tape::Library::open(tmp.path(), cfg, [&](const std::string& v) { return sim->label(v); });
    EXPECT_TRUE(lib.ok()) << lib.error().message;
    if (lib.ok()) library = std::move(*lib);
    cache = std::make_unique<tape::ChunkCache>(tmp.path() + "/cache", cache_bytes);
    EXPECT_TRUE(cache->open().ok());
  }

  // Makes `n` chunks of 20..300 KiB (some incompressible, so some blocks span records).
  static std::vector<TapeChunk> make_chunks(std::size_t n, std::uint64_t seed) {
    std::vector<TapeChunk> out;
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
      TapeChunk c;
      c.plain = tape_random_bytes(20'000 + rng() % 240'000, seed * 1000 + i, i % 3 == 0);
      c.sha = sha256(c.plain);
      out.push_back(std::move(c));
    }
    return out;
  }

  // Writes the chunks round robin over `streams` streams onto `volser` with drive 0 (directly, no
  // scheduler), as copy `copy`; appends each chunk's new location to its copies.
  void write(std::vector<TapeChunk>& chunks, const std::string& volser, int streams = 2, int copy = 1) {
    auto cart = library->find(volser);
    ASSERT_TRUE(cart);
    ASSERT_TRUE(sim->load(0, volser).ok());
    tape::StreamInterleaver il(volser, cart->records, sim->timing().capacity_bytes / tape::kRecordSize);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      auto cc = tape::compress_chunk(chunks[i].plain, 3);
      ASSERT_TRUE(il.append(static_cast<std::uint32_t>(i % streams), i, chunks[i].sha, cc.codec,
                            cc.plain_length, cc.payload))
          << "cartridge " << volser << " full at chunk " << i;
    }
    auto records = il.take_all_records();
    ASSERT_TRUE(sim->locate(0, cart->records).ok());
    ASSERT_TRUE(sim->write(0, records).ok());
    ASSERT_TRUE(sim->flush(0).ok());
    for (auto& p : il.take_placed()) chunks[p.tag].copies.push_back({volser, copy, p.ref});
    ASSERT_TRUE(library->note_written(volser, copy, il.next_record(), false).ok());
    ASSERT_TRUE(sim->unload(0).ok());
  }
};

}  // namespace recall::testing
