#pragma once
// `gnmt train`: tokenizer, data, model, optimisation loop, validation and checkpoints.
#include <string>

#include "config/config.h"

namespace gnmt {

struct TrainArgs {
  Config config;
  bool resume = false;  // continue from <run_dir>/last.pt
};

// Returns the process exit code: 0 when training reached its limit, kExitPreempted after SIGTERM/SIGINT.
int train(const TrainArgs& args);

// The learning rate at `step` (1-based): linear warmup, then lr * sqrt(warmup / step) for decay rsqrt.
double learning_rate(const TrainingOptions& options, int64_t step);

}  // namespace gnmt
