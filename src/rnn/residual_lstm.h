#pragma once
// Building blocks for deep LSTM stacks: where residual connections go, and the per-sequence reversal that
// lets a forward-running LSTM act as the backward direction of a bidirectional layer on padded batches.
#include <torch/torch.h>

namespace gnmt {

// Layer numbers are 1-based, as in the GNMT paper ("residual connections from the third layer up").
// A layer takes a residual x + f(x) when it is at or above residual_start and its residual input has the
// same width as its output; otherwise it is a plain layer.
inline bool has_residual(int64_t layer, int64_t residual_start, int64_t in_width, int64_t out_width) {
  return layer >= residual_start && in_width == out_width;
}

// Index (S, B) that reverses each column's first lengths[b] steps and leaves padding in place.
// Applying it twice is the identity.
torch::Tensor reverse_index(const torch::Tensor& lengths, int64_t max_len);

// x (S, B, ...) gathered along time with index (S, B).
torch::Tensor gather_time(const torch::Tensor& x, const torch::Tensor& index);

// Runs one single-layer LSTM over a whole sequence. x (T, B, in) -> (T, B, H); `state` (h, c), each
// (1, B, H), is used as the initial state when defined and replaced by the final state. float32 on the
// CPU runs rnn/fused_lstm.h with the module's weights (unless disabled below), anything else the module.
torch::Tensor run_lstm(torch::nn::LSTM& lstm, const torch::Tensor& x,
                       std::tuple<torch::Tensor, torch::Tensor>* state = nullptr);

// Process-wide switch for run_lstm's fused CPU path (on by default); `gnmt bench --unfused` turns it off
// to measure the torch::nn::LSTM path in the same binary.
void set_fused_lstm(bool enabled);

}  // namespace gnmt
