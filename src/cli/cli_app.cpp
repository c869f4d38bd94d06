#include "cli/cli_app.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/score_command.h"
#include "common/error.h"

namespace gnmt {

int run_cli(int argc, char** argv, const std::function<void(CLI::App& app, int* exit_code)>& add_commands) {
  CLI::App app{"gnmt " GNMT_VERSION ": GNMT-style deep residual LSTM translation (LibTorch)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gnmt " GNMT_VERSION);
  int exit_code = 0;
  add_commands(app, &exit_code);
  try {
    auto args = normalize_sacrebleu_short_flags(argc, argv);  // sacreBLEU's -tok, -lc, ... for `score`
    app.parse(args.argc(), args.argv());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A bad command line is bad input like any other: one line, exit code 2.
    std::cerr << "gnmt: error: " << e.what() << " (see gnmt --help, or gnmt COMMAND --help)" << std::endl;
    return kExitBadInput;
  } catch (const Error& e) {
    std::cerr << "gnmt: error: " << e.what() << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "gnmt: error: " << e.what() << std::endl;
    return kExitFailure;
  }
  return exit_code;
}

}  // namespace gnmt
