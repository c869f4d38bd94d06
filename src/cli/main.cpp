// gnmt-torch: train, translate and score GNMT-style deep residual LSTM translation models.
// main() only registers and dispatches; each subcommand lives in src/cli/. Users run `gnmt`
// (front_main.cpp), which scores without loading LibTorch and execs this binary for the rest.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/average_command.h"
#include "cli/bench_command.h"
#include "cli/cli_app.h"
#include "cli/commands.h"
#include "cli/score_command.h"

int main(int argc, char** argv) {
  gnmt::ScoreArgs score_args;
  return gnmt::run_cli(argc, argv, [&score_args](CLI::App& app, int* exit_code) {
    gnmt::add_train_command(app, exit_code);
    gnmt::add_translate_command(app, exit_code);
    gnmt::add_score_command(app, score_args, exit_code);
    gnmt::add_info_command(app, exit_code);
    gnmt::add_bench_command(app, exit_code);
    gnmt::add_average_command(app, exit_code);
    spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] [%l] %v");
    spdlog::set_default_logger(spdlog::stderr_color_mt("gnmt"));
  });
}
