#include "catalogd/daemon/tape_service.h"

#include <sys/stat.h>

#include <cerrno>

namespace recall::daemon {
namespace {

Status make_private_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create " + path, errno);
  return {};
}

}  // namespace

Result<std::unique_ptr<TapeService>> TapeService::open(const std::string& home, TapeConfig config) {
  std::unique_ptr<TapeService> t(new TapeService());
  const std::string dir = home + "/tape";
  RECALL_TRY(make_private_dir(dir));
  RECALL_TRY(make_private_dir(dir + "/cartridges"));
  // The inventory decides the drives and the timing once it exists; the flags only make a new one.
  std::unique_ptr<tape::SimBackend> labeller;
  auto label = [&](const std::string& volser) -> Status {
    if (!labeller)
      labeller = std::make_unique<tape::SimBackend>(dir + "/cartridges", 0, config.library.timing, 0);
    return labeller->label(volser);
  };
  auto lib = tape::Library::open(dir, config.library, label);
  if (!lib.ok()) return lib.error();
  t->library_ = std::move(*lib);
  const auto& lc = t->library_->config();
  t->backend_ =
      std::make_unique<tape::SimBackend>(dir + "/cartridges", lc.drives, lc.timing, config.time_scale);
  t->cache_ = std::make_unique<tape::ChunkCache>(dir + "/cache", config.cache_mb << 20);
  RECALL_TRY(t->cache_->open());
  if (config.scheduler == "fcfs") {
    config.scheduling.policy = tape::SchedulerConfig::Policy::Fcfs;
  } else if (config.scheduler != "recall") {
    return make_error(ErrorKind::Invalid,
                      "unknown tape scheduler '" + config.scheduler + "' (recall or fcfs)");
  }
  t->scheduler_ =
      std::make_unique<tape::StagingScheduler>(*t->backend_, *t->library_, *t->cache_, config.scheduling);
  t->scheduler_->start();
  t->config_ = std::move(config);
  return t;
}

TapeService::~TapeService() { stop(); }

void TapeService::stop() {
  if (scheduler_) scheduler_->stop();
}

std::string TapeService::where(const std::string& volser) const {
  auto c = library_->find(volser);
  if (!c) return "not in the library's inventory";
  switch (c->place) {
    case tape::Place::Slot:
      return "in the library (slot " + std::to_string(c->slot) + ")";
    case tape::Place::Drive:
      return "in drive " + std::to_string(c->drive);
    case tape::Place::OffSite:
      return "off-site";
  }
  return "unknown";
}

tape::WantedChunk TapeService::wanted(const store::ChunkLocation& chunk) {
  tape::WantedChunk w;
  w.sha = chunk.sha;
  w.size = chunk.size;
  for (const auto& c : chunk.copies)
    if (c.volume_kind == "tape")
      w.copies.push_back({c.volser, c.copy, tape::TapeBlockRef{c.offset, c.length, c.span}});
  return w;
}

}  // namespace recall::daemon
