#pragma once
#include <CLI/CLI.hpp>

namespace gnmt {

// `gnmt bench`: the machine's matrix-multiply rate and the trainer's speed and model FLOPs utilisation.
void add_bench_command(CLI::App& app, int* exit_code);

}  // namespace gnmt
