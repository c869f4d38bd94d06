#pragma once
// Checkpoints: one file holding the weights, the optimizer state, the training position, the random
// generator state, the resolved config and the SentencePiece model. Written atomically.
//
// File layout (format 2): a LibTorch archive (a zip file, as torch::serialize writes it) followed by a
// 20-byte trailer: the 8 bytes "GNMTSUM1", the archive's length in bytes (uint64, little-endian) and the
// CRC-32 (IEEE, as zlib's crc32) of the archive bytes (uint32, little-endian). The trailer is written in
// the same atomic step as the archive (temporary file, fsync, rename). Loading reads the whole file and
// checks the trailer, the length and the checksum before anything is parsed, so a truncated, extended or
// damaged file is refused with one line naming the file, and no model is ever half loaded.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "data/tokenizer.h"
#include "models/model.h"

namespace gnmt {

constexpr int64_t kCheckpointFormat = 2;  // 2: checksum trailer, EMA weights, best xent, early-stop counter

// CRC-32 (IEEE 802.3 polynomial, the same value as zlib's crc32()); `crc` continues a running checksum.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

// Serializes `archive` to `path` atomically, with the checksum trailer described above. Any failure
// (disk full, unwritable directory) is a gnmt::Error naming the file and the reason; `path` is untouched.
void write_checksummed_archive(const std::string& path, torch::serialize::OutputArchive& archive);

// Reads `path`, verifies the trailer and checksum and returns the archive bytes (without the trailer).
// gnmt::Error "checkpoint PATH: not a readable gnmt checkpoint: ..." on any problem.
std::string read_checksummed_archive(const std::string& path);

struct TrainingState {
  int64_t step = 0;              // optimizer updates done
  int64_t epoch = 0;             // current epoch (0-based)
  int64_t batch_in_epoch = 0;    // batches of `epoch` already consumed
  double train_seconds = 0;      // training time so far
  double best_valid_bleu = -1;   // best validation BLEU so far (-1 = none)
  double best_valid_xent = -1;   // best (lowest) validation cross-entropy so far (-1 = none)
  int64_t validations_since_best = 0;  // validations in a row without a new best (for early stopping)
  std::string history;           // one line per validation: "step=.. valid_xent=.. valid_bleu=.."
  std::string best_steps;        // the keep_best best validations, best first: "STEP:SCORE ..." (higher = better)
  double loss_scale = 65536.0;   // fp16 dynamic loss scale
  int64_t loss_scale_good_steps = 0;  // finite fp16 steps since the scale last changed
  int64_t world_size = 1;        // processes that trained the last step (a resume may use another number)
};

struct Checkpoint {
  Config config;
  Tokenizer tokenizer;
  TrainingState state;
  GnmtModel model{nullptr};
  std::string path;
  std::map<std::string, torch::Tensor> ema;  // EMA of the weights by parameter name (empty: none saved)
  int64_t format = kCheckpointFormat;         // 1: written before checksums (read, with a warning, unverified)
};

// `ema` (optional): moving-average weights by parameter name, saved beside the raw weights.
void save_checkpoint(const std::string& path, GnmtModel& model, torch::optim::Optimizer* optimizer,
                     const Config& config, const Tokenizer& tokenizer, const TrainingState& state,
                     const std::map<std::string, torch::Tensor>* ema = nullptr);

// Loads the model (on `device`) and, when `optimizer` is given, its state. Any problem - missing,
// truncated, damaged, another format version, another model shape - is a gnmt::Error naming the file.
Checkpoint load_checkpoint(const std::string& path, const torch::Device& device);
void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer);

}  // namespace gnmt
