#pragma once
// GNMT encoder: a bidirectional bottom LSTM layer, then unidirectional layers, residual from
// residual_start up (layer numbers 1-based; layers 1 and 2 never have one as their widths differ).
#include <torch/torch.h>

#include "config/config.h"

namespace gnmt {

struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const ModelOptions& options);

  // emb (S, B, E) embedded source, lengths (B) -> outputs (S, B, H). Padding is at the end of each column;
  // outputs at padded positions are not meaningful (attention masks them).
  torch::Tensor forward(const torch::Tensor& emb, const torch::Tensor& lengths);

  // Whether encoder layer `layer` (1-based) adds its input to its output.
  bool residual(int64_t layer) const;

  ModelOptions options;
  torch::nn::LSTM bottom_fwd{nullptr}, bottom_bwd{nullptr};  // layer 1, each direction H wide
  std::vector<torch::nn::LSTM> layers;                       // layers 2..N
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(Encoder);

}  // namespace gnmt
