// recall: the command-line client of recalld. Wires the verbs; the logic lives in them.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/context.h"
#include "cli/verbs.h"

int main(int argc, char** argv) {
  using namespace recall::cli;
  CLI::App app{
      "recall: browse, search and restore backups kept by recalld.\n"
      "Pick a point with --host H --at TIME (ISO 8601 or 'latest': the newest point at or before TIME)."};
  app.require_subcommand(1);
  Context ctx;
  ctx.socket = default_socket();
  app.add_option("--socket", ctx.socket, "recalld's socket (env RECALL_SOCKET)")->capture_default_str();
  app.add_flag("--json", ctx.json, "print one JSON document for scripts");
  Action action;
  add_query_verbs(app, ctx, action);
  add_import_verbs(app, ctx, action);
  add_scan_verb(app, ctx, action);
  add_restore_verbs(app, ctx, action);
  add_tape_verbs(app, ctx, action);
  // --json is accepted after the verb too: `recall search x --json`.
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    sub->add_flag("--json", ctx.json, "print one JSON document for scripts");
    for (auto* subsub : sub->get_subcommands([](CLI::App*) { return true; }))
      subsub->add_flag("--json", ctx.json, "print one JSON document for scripts");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other error of recall, and the exit code of invalid input.
    std::fprintf(stderr, "recall: %s (see recall --help, or recall VERB --help)\n", e.what());
    return 2;
  }
  return action ? action() : 0;
}
