#pragma once
// The command-line shell shared by gnmt's two executables: `gnmt` (src/cli/front_main.cpp, no
// LibTorch: runs `score` itself and hands every other command to the full binary) and `gnmt-torch`
// (src/cli/main.cpp, every subcommand). Both parse through run_cli, so help, version, errors and
// exit codes are the same whichever binary answers.
#include <functional>

namespace CLI {
class App;
}

namespace gnmt {

// Builds the top-level app ("gnmt VERSION: ...", --version), lets `add_commands(app, &exit_code)`
// register the subcommands, parses argv (sacreBLEU's short flags normalised for `score`) and runs
// the chosen subcommand. Returns its exit code; a bad command line or a gnmt::Error prints one line
// "gnmt: error: ..." and returns kExitBadInput, any other exception kExitFailure.
int run_cli(int argc, char** argv, const std::function<void(CLI::App& app, int* exit_code)>& add_commands);

}  // namespace gnmt
