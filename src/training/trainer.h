#pragma once
// `gnmt train`: tokenizer, data, model, optimisation loop, validation and checkpoints.
#include <string>

#include "config/config.h"

namespace gnmt {

struct TrainArgs {
  Config config;
  bool resume = false;        // continue from <run_dir>/last.pt
  bool exact_losses = false;  // log losses with 17 decimals (for comparing runs bit for bit)
};

// Returns the process exit code: 0 when training reached its limit (or stopped early), kExitPreempted after
// SIGTERM/SIGINT. A checkpoint that cannot be written (disk full, unwritable run_dir) stops training with a
// std::runtime_error (exit code 1) naming the file and the reason; the previous checkpoint stays intact.
int train(const TrainArgs& args);

// The learning rate at `step` (1-based): linear warmup, then lr * sqrt(warmup / step) for decay rsqrt.
double learning_rate(const TrainingOptions& options, int64_t step);

}  // namespace gnmt
