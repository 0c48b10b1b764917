#include "cli/job_follow.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "catalogd/http/http_errors.h"
#include "cli/output.h"
#include "common/paths.h"

namespace recall::cli {
namespace {

std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

}  // namespace

std::string rate(std::uint64_t bytes, double secs) {
  return human_size(secs > 0 ? static_cast<std::uint64_t>(static_cast<double>(bytes) / secs) : 0) + "/s";
}

Result<nlohmann::json> follow_job(
    Context& ctx, std::uint64_t id,
    const std::function<std::string(const nlohmann::json& job, double secs)>& line,
    const std::string& cancelled_note) {
  const std::string job = "/v1/jobs/" + std::to_string(id);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Progress progress;
  bool cancel_sent = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    if (interrupted && !cancel_sent) {
      progress.update("cancelling...", true);
      auto d = ctx.api().del(job);
      if (!d.ok()) return d.error();
      cancel_sent = true;
    }
    auto st = ctx.api().get(job);
    if (!st.ok() && ctx.api().unreachable()) {
      // The daemon answered before and is gone now: it stopped (or was killed) mid-job.
      progress.done();
      return make_error(ErrorKind::Io, "recalld stopped while job " + std::to_string(id) + " was running (" +
                                           one_line(st.error().message) +
                                           "); a job recalld did not finish leaves the catalog as "
                                           "it was: start recalld and run it again");
    }
    if (!st.ok()) return st.error();
    const std::string state = (*st)["state"];
    if (state == "complete" || state == "failed" || state == "cancelled") {
      progress.done();
      if (state == "complete") return *st;
      if (ctx.json) print_json(*st);
      const auto& e = (*st)["error"];
      ErrorKind kind = error_kind_from_code(e.value("code", "")).value_or(ErrorKind::Internal);
      return make_error(kind, e["message"].get<std::string>() + (state == "cancelled" ? cancelled_note : ""));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.update(line(*st, secs));
    std::this_thread::sleep_for(std::chrono::milliseconds(progress.enabled() ? 100 : 50));
  }
}

}  // namespace recall::cli
