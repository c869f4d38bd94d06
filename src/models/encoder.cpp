#include "models/encoder.h"

#include "rnn/residual_lstm.h"

namespace gnmt {

EncoderImpl::EncoderImpl(const ModelOptions& o) : options(o) {
  const int64_t H = o.hidden_size;
  bottom_fwd = register_module("bottom_fwd", torch::nn::LSTM(torch::nn::LSTMOptions(o.emb_dim, H)));
  bottom_bwd = register_module("bottom_bwd", torch::nn::LSTM(torch::nn::LSTMOptions(o.emb_dim, H)));
  for (int64_t l = 2; l <= o.enc_layers; ++l) {
    int64_t in = l == 2 ? 2 * H : H;
    layers.push_back(register_module("layer" + std::to_string(l), torch::nn::LSTM(torch::nn::LSTMOptions(in, H))));
  }
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout));
}

bool EncoderImpl::residual(int64_t layer) const {
  if (layer == 1) return false;  // bidirectional: input E, output 2H
  int64_t in = layer == 2 ? 2 * options.hidden_size : options.hidden_size;
  return has_residual(layer, options.residual_start, in, options.hidden_size);
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& emb, const torch::Tensor& lengths) {
  const int64_t S = emb.size(0);
  // Backward direction: reverse each sequence within its own length so padding stays at the end, run a
  // forward LSTM, and reverse back. No packed sequences needed, and the same code runs on cuDNN.
  auto rev = reverse_index(lengths, S);
  auto fwd = run_lstm(bottom_fwd, emb);
  auto bwd = gather_time(run_lstm(bottom_bwd, gather_time(emb, rev)), rev);
  auto x = torch::cat({fwd, bwd}, -1);  // (S, B, 2H)
  for (size_t i = 0; i < layers.size(); ++i) {
    int64_t layer = static_cast<int64_t>(i) + 2;
    auto y = run_lstm(layers[i], dropout(x));
    x = residual(layer) ? y + x : y;
  }
  return x;
}

}  // namespace gnmt
