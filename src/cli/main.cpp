// gnmt: train, translate and score GNMT-style deep residual LSTM translation models.
// main() only parses the command line and dispatches; each subcommand lives in src/cli/.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/average_command.h"
#include "cli/bench_command.h"
#include "cli/commands.h"
#include "cli/score_command.h"
#include "common/error.h"

int main(int argc, char** argv) {
  CLI::App app{"gnmt " GNMT_VERSION ": GNMT-style deep residual LSTM translation (LibTorch)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gnmt " GNMT_VERSION);
  int exit_code = 0;
  gnmt::add_train_command(app, &exit_code);
  gnmt::add_translate_command(app, &exit_code);
  gnmt::ScoreArgs score_args;
  gnmt::add_score_command(app, score_args, &exit_code);
  gnmt::add_info_command(app, &exit_code);
  gnmt::add_bench_command(app, &exit_code);
  gnmt::add_average_command(app, &exit_code);
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] [%l] %v");
  spdlog::set_default_logger(spdlog::stderr_color_mt("gnmt"));
  try {
    auto args = gnmt::normalize_sacrebleu_short_flags(argc, argv);  // sacreBLEU's -tok, -lc, ... for `score`
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
    return gnmt::kExitBadInput;
  } catch (const gnmt::Error& e) {
    std::cerr << "gnmt: error: " << e.what() << std::endl;
    return gnmt::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "gnmt: error: " << e.what() << std::endl;
    return gnmt::kExitFailure;
  }
  return exit_code;
}
