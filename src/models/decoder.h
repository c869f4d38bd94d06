#pragma once
// GNMT decoder: the bottom LSTM layer reads the previous target word and queries the attention; the
// attention context is concatenated to the input of every upper layer. Residual from residual_start up.
// Training runs each layer over the whole sequence; decoding runs the same weights one step at a time.
#include <torch/torch.h>

#include "config/config.h"
#include "models/attention.h"

namespace gnmt {

// Carried state for step-by-step decoding; tensors are batch-major in dim 1 (h, c) or 0 (coverage).
struct DecoderState {
  std::vector<std::tuple<torch::Tensor, torch::Tensor>> lstm;  // per layer (h, c), each (1, B, H)
  torch::Tensor coverage;                                      // (B, S) summed attention weights
  DecoderState index_select(const torch::Tensor& batch_index) const;
};

struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const ModelOptions& options);

  // emb (T, B, E) embedded bos+target prefix -> top-layer outputs (T, B, H) (teacher forcing).
  torch::Tensor forward(const torch::Tensor& emb, const Memory& memory);

  // One step: emb (B, E) -> top-layer output (B, H); updates `state` (including coverage).
  // `attention_out` receives the weights (B, S) when not null.
  torch::Tensor step(const torch::Tensor& emb, const Memory& memory, DecoderState& state);

  DecoderState initial_state(const Memory& memory) const;

  bool residual(int64_t layer) const;  // layer 1-based

  ModelOptions options;
  std::vector<torch::nn::LSTM> layers;  // layer 1 reads E; layer l >= 2 reads H + H (previous output, context)
  Attention attention{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(Decoder);

}  // namespace gnmt
