#pragma once
// The whole GNMT model: embeddings, Encoder, Decoder (with attention) and the output projection.
#include <torch/torch.h>

#include "config/config.h"
#include "data/corpus.h"
#include "models/decoder.h"
#include "models/encoder.h"

namespace gnmt {

struct GnmtModelImpl : torch::nn::Module {
  GnmtModelImpl(const ModelOptions& options, int64_t vocab_size);

  // src (S, B), lengths (B) -> attention memory over the encoder outputs.
  Memory encode(const torch::Tensor& src, const torch::Tensor& lengths);

  // Teacher-forced logits for a batch: (T, B, V).
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& lengths, const torch::Tensor& tgt_in);

  // Decoder hidden (..., H) -> logits (..., V).
  torch::Tensor project(const torch::Tensor& hidden);

  // One decoding step: prev (B) token ids -> log-probabilities (B, V).
  torch::Tensor step(const torch::Tensor& prev, const Memory& memory, DecoderState& state);

  int64_t parameter_count() const;

  ModelOptions options;
  int64_t vocab_size;
  torch::nn::Embedding src_embedding{nullptr}, tgt_embedding{nullptr};  // the same module when shared
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Linear output{nullptr};  // absent when tied to the target embedding
  torch::Tensor output_bias;
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(GnmtModel);

// Label-smoothed cross-entropy summed over non-pad targets, in fp32. logits (T, B, V) in fp32, or bf16/fp16
// as autocast's products leave them (computed on in fp32, no full-size fp32 copy); target (T, B).
torch::Tensor smoothed_loss(const torch::Tensor& logits, const torch::Tensor& target, double smoothing);

}  // namespace gnmt
