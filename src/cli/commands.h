#pragma once
// Subcommands of the gnmt executable. Each add_* registers its options on `app` and a callback that
// runs the command and stores its exit code in `*exit_code`.
#include <CLI/CLI.hpp>

namespace gnmt {

void add_train_command(CLI::App& app, int* exit_code);
void add_translate_command(CLI::App& app, int* exit_code);
void add_info_command(CLI::App& app, int* exit_code);

}  // namespace gnmt
