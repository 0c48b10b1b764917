// Following a job recalld runs (an import, a migration): a progress line on a terminal, Ctrl-C
// cancels the job, and the job's final JSON at the end.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/context.h"
#include "common/result.h"

namespace recall::cli {

// Polls /v1/jobs/ID until the job ends; `line` renders a running job's progress line (seconds since
// start given). Returns the final job document when it completed; its error (with `cancelled_note`
// added when it was cancelled) otherwise. With --json, a failed job's document is printed too.
Result<nlohmann::json> follow_job(
    Context& ctx, std::uint64_t id,
    const std::function<std::string(const nlohmann::json& job, double secs)>& line,
    const std::string& cancelled_note);

std::string rate(std::uint64_t bytes, double secs);

}  // namespace recall::cli
