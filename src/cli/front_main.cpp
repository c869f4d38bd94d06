// gnmt: the executable users run. It never loads LibTorch (whose dynamic loading and static
// initialisation alone take ~0.4 s): `gnmt score ...` runs here, in-process; every other command
// line (train, translate, info, bench, average, --help, --version, none) is handed unchanged, by
// execv, to gnmt-torch in the same directory, which has every subcommand.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "cli/cli_app.h"
#include "cli/score_command.h"
#include "common/error.h"

namespace {

// Directory of the running executable (symbolic links resolved), with a trailing '/'.
std::string own_directory() {
  std::string buf(4096, '\0');
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  buf.resize(static_cast<std::size_t>(n));
  return buf.substr(0, buf.rfind('/') + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "score") == 0) {
    gnmt::ScoreArgs score_args;
    return gnmt::run_cli(argc, argv, [&score_args](CLI::App& app, int* exit_code) {
      gnmt::add_score_command(app, score_args, exit_code);
    });
  }
  const std::string full = own_directory() + "gnmt-torch";
  execv(full.c_str(), argv);
  const int err = errno;
  std::cerr << "gnmt: error: cannot run " << full << " (" << std::strerror(err)
            << "); it holds every command but score and must be installed next to gnmt" << std::endl;
  return gnmt::kExitFailure;
}
