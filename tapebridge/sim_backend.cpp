#include "tapebridge/sim_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "common/time.h"
#include "tapebridge/tape_format.h"
#include "tapebridge/volume_io.h"

namespace recall::tape {

SimBackend::SimBackend(std::string dir, std::size_t drives, TimingModel timing, double time_scale)
    : dir_(std::move(dir)), timing_(std::move(timing)), clock_(time_scale) {
  for (std::size_t i = 0; i < drives; ++i) drives_.push_back(std::make_unique<Drive>());
}

Result<SimBackend::Drive*> SimBackend::drive_at(std::size_t drive) {
  if (drive >= drives_.size()) return make_error(ErrorKind::Invalid, "no drive " + std::to_string(drive));
  return drives_[drive].get();
}

Result<SimBackend::Drive*> SimBackend::loaded_drive(std::size_t drive) {
  auto d = drive_at(drive);
  if (!d.ok()) return d.error();
  std::lock_guard lk((*d)->mu);
  if (!(*d)->volser) return make_error(ErrorKind::Conflict, "drive " + std::to_string(drive) + " is empty");
  return *d;
}

void SimBackend::spend(Drive& d, double model_seconds, std::uint64_t DriveCounters::*counter) {
  clock_.spend(model_seconds);
  std::lock_guard lk(d.mu);
  d.counters.busy_s += model_seconds;
  if (counter) ++(d.counters.*counter);
}

Status SimBackend::label(const std::string& volser) {
  RECALL_TRY(check_volser(volser));
  const std::string path = cartridge_path(volser);
  auto fd = open_volume_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!fd.ok()) return fd.error();
  const auto record = encode_label_record(volser, now_utc());
  Status st = pwrite_full(fd->get(), record.data(), record.size(), 0, path);
  if (st.ok() && ::fsync(fd->get()) != 0) st = io_error("fsync " + path, errno);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

Status SimBackend::load(std::size_t drive, const std::string& volser) {
  auto d = drive_at(drive);
  if (!d.ok()) return d.error();
  {
    // Claimed before the mount's wait, so two drives cannot load one cartridge at once.
    std::lock_guard claim(load_mu_);
    for (std::size_t i = 0; i < drives_.size(); ++i) {
      std::lock_guard lk(drives_[i]->mu);
      if (drives_[i]->volser == volser || drives_[i]->loading == volser)
        return make_error(ErrorKind::Conflict,
                          "cartridge " + volser + " is already in drive " + std::to_string(i));
      if (i == drive && (drives_[i]->volser || !drives_[i]->loading.empty()))
        return make_error(ErrorKind::Conflict, "drive " + std::to_string(drive) + " is not empty");
    }
    std::lock_guard lk((*d)->mu);
    (*d)->loading = volser;
  }
  auto release = [&] {
    std::lock_guard lk((*d)->mu);
    (*d)->loading.clear();
  };
  const std::string path = cartridge_path(volser);
  auto fd = open_volume_file(path, O_RDWR);
  if (!fd.ok()) return release(), fd.error();
  auto size = file_size(fd->get(), path);
  if (!size.ok()) return release(), size.error();
  spend(**d, timing_.mount(), &DriveCounters::mounts);
  std::lock_guard lk((*d)->mu);
  (*d)->loading.clear();
  (*d)->volser = volser;
  (*d)->fd = std::move(*fd);
  (*d)->position = 0;
  (*d)->records = *size / kRecordSize;  // a torn partial record at the end is not a record
  return {};
}

Status SimBackend::unload(std::size_t drive) {
  auto d = loaded_drive(drive);
  if (!d.ok()) return d.error();
  spend(**d, timing_.unmount(position(drive)), &DriveCounters::unmounts);
  std::lock_guard lk((*d)->mu);
  (*d)->volser.reset();
  (*d)->fd.reset();
  (*d)->position = 0;
  return {};
}

Status SimBackend::locate(std::size_t drive, std::uint64_t record) {
  auto d = loaded_drive(drive);
  if (!d.ok()) return d.error();
  const std::uint64_t from = position(drive);
  if (from == record) return {};
  {
    std::lock_guard lk((*d)->mu);
    if (record > (*d)->records)
      return make_error(ErrorKind::Corrupt, record_context(*(*d)->volser, record) +
                                                ": locate past the end of data (" +
                                                std::to_string((*d)->records) + " records written)");
  }
  spend(**d, timing_.locate(from, record), &DriveCounters::locates);
  std::lock_guard lk((*d)->mu);
  (*d)->position = record;
  return {};
}

Result<std::vector<std::uint8_t>> SimBackend::read(std::size_t drive, std::uint64_t count) {
  auto d = loaded_drive(drive);
  if (!d.ok()) return d.error();
  std::uint64_t pos, end;
  std::string volser;
  {
    std::lock_guard lk((*d)->mu);
    pos = (*d)->position;
    end = (*d)->records;
    volser = *(*d)->volser;
  }
  if (pos + count > end)
    return make_error(ErrorKind::Corrupt, record_context(volser, std::max(pos, end)) +
                                              ": blank check (read past the end of data)");
  std::vector<std::uint8_t> out(count * kRecordSize);
  auto got = pread_full((*d)->fd.get(), out.data(), out.size(), pos * kRecordSize, cartridge_path(volser));
  if (!got.ok()) return got.error();
  if (*got != out.size())
    return make_error(ErrorKind::Corrupt,
                      record_context(volser, pos) + ": cartridge file shorter than its records");
  clock_.spend(timing_.read(count));
  std::lock_guard lk((*d)->mu);
  (*d)->counters.busy_s += timing_.read(count);
  (*d)->counters.records_read += count;
  (*d)->position = pos + count;
  return out;
}

Status SimBackend::write(std::size_t drive, std::span<const std::uint8_t> records) {
  auto d = loaded_drive(drive);
  if (!d.ok()) return d.error();
  if (records.size() % kRecordSize != 0)
    return make_error(ErrorKind::Internal, "a tape write must be whole records");
  const std::uint64_t count = records.size() / kRecordSize;
  std::uint64_t pos;
  std::string volser;
  {
    std::lock_guard lk((*d)->mu);
    pos = (*d)->position;
    volser = *(*d)->volser;
  }
  if ((pos + count) * kRecordSize > timing_.capacity_bytes)
    return make_error(ErrorKind::Conflict, record_context(volser, pos) + ": end of medium");
  const std::string path = cartridge_path(volser);
  RECALL_TRY(pwrite_full((*d)->fd.get(), records.data(), records.size(), pos * kRecordSize, path));
  // As on tape: writing here makes everything after it unreadable.
  if (::ftruncate((*d)->fd.get(), static_cast<off_t>((pos + count) * kRecordSize)) != 0)
    return io_error("truncate " + path, errno);
  clock_.spend(timing_.write(count));
  std::lock_guard lk((*d)->mu);
  (*d)->counters.busy_s += timing_.write(count);
  (*d)->counters.records_written += count;
  (*d)->position = pos + count;
  (*d)->records = pos + count;
  return {};
}

Status SimBackend::flush(std::size_t drive) {
  auto d = loaded_drive(drive);
  if (!d.ok()) return d.error();
  if (::fdatasync((*d)->fd.get()) != 0) return io_error("fdatasync " + cartridge_path(*loaded(drive)), errno);
  spend(**d, timing_.flush(), &DriveCounters::flushes);
  return {};
}

std::optional<std::string> SimBackend::loaded(std::size_t drive) const {
  if (drive >= drives_.size()) return std::nullopt;
  std::lock_guard lk(drives_[drive]->mu);
  return drives_[drive]->volser;
}

std::uint64_t SimBackend::position(std::size_t drive) const {
  if (drive >= drives_.size()) return 0;
  std::lock_guard lk(drives_[drive]->mu);
  return drives_[drive]->position;
}

DriveCounters SimBackend::counters(std::size_t drive) const {
  if (drive >= drives_.size()) return {};
  std::lock_guard lk(drives_[drive]->mu);
  return drives_[drive]->counters;
}

}  // namespace recall::tape
