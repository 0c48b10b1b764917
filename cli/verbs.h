// The recall CLI's verbs. Each registers its subcommand on the app and runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "cli/context.h"

namespace recall::cli {

// A verb's action; returns the process exit code.
using Action = std::function<int()>;

void add_query_verbs(CLI::App& app, Context& ctx, Action& action);   // hosts points ls search versions status
void add_import_verbs(CLI::App& app, Context& ctx, Action& action);  // import dir tar manifest restic
void add_restic_verb(CLI::App* import, Context& ctx, Action& action);  // import restic
void add_scan_verb(CLI::App& app, Context& ctx, Action& action);     // scan
void add_restore_verbs(CLI::App& app, Context& ctx, Action& action);  // cat restore
void add_tape_verbs(CLI::App& app, Context& ctx, Action& action);     // volumes migrate queue

}  // namespace recall::cli
