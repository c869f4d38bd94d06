#pragma once
// Checkpoints: one file holding the weights, the optimizer state, the training position, the random
// generator state, the resolved config and the SentencePiece model. Written atomically.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "config/config.h"
#include "data/tokenizer.h"
#include "models/model.h"

namespace gnmt {

constexpr int64_t kCheckpointFormat = 1;

struct TrainingState {
  int64_t step = 0;              // optimizer updates done
  int64_t epoch = 0;             // current epoch (0-based)
  int64_t batch_in_epoch = 0;    // batches of `epoch` already consumed
  double train_seconds = 0;      // training time so far
  double best_valid_bleu = -1;   // best validation BLEU so far (-1 = none)
  std::string history;           // one line per validation: "step=.. valid_xent=.. valid_bleu=.."
};

struct Checkpoint {
  Config config;
  Tokenizer tokenizer;
  TrainingState state;
  GnmtModel model{nullptr};
  std::string path;
};

void save_checkpoint(const std::string& path, GnmtModel& model, torch::optim::Optimizer* optimizer,
                     const Config& config, const Tokenizer& tokenizer, const TrainingState& state);

// Loads the model (on `device`) and, when `optimizer` is given, its state. Any problem - missing,
// truncated, damaged, another format version, another model shape - is a gnmt::Error naming the file.
Checkpoint load_checkpoint(const std::string& path, const torch::Device& device);
void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer);

}  // namespace gnmt
