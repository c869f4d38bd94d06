#include "models/decoder.h"

#include "rnn/residual_lstm.h"

namespace gnmt {

DecoderState DecoderState::index_select(const torch::Tensor& idx) const {
  DecoderState s;
  for (const auto& [h, c] : lstm) s.lstm.emplace_back(h.index_select(1, idx), c.index_select(1, idx));
  if (coverage.defined()) s.coverage = coverage.index_select(0, idx);
  return s;
}

DecoderImpl::DecoderImpl(const ModelOptions& o) : options(o) {
  const int64_t H = o.hidden_size;
  for (int64_t l = 1; l <= o.dec_layers; ++l) {
    int64_t in = l == 1 ? o.emb_dim : 2 * H;
    layers.push_back(register_module("layer" + std::to_string(l), torch::nn::LSTM(torch::nn::LSTMOptions(in, H))));
  }
  attention = register_module("attention", Attention(H, H, H));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout));
}

bool DecoderImpl::residual(int64_t layer) const {
  // The residual input of layer l >= 2 is the previous layer's output (H wide), not the context.
  int64_t in = layer == 1 ? options.emb_dim : options.hidden_size;
  return has_residual(layer, options.residual_start, in, options.hidden_size);
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& emb, const Memory& memory) {
  auto x = run_lstm(layers[0], dropout(emb));                    // (T, B, H)
  if (residual(1)) x = x + emb;
  auto [context, weights] = attention(x.transpose(0, 1), memory);  // all T steps at once
  context = context.transpose(0, 1);                             // (T, B, H)
  for (size_t i = 1; i < layers.size(); ++i) {
    auto y = run_lstm(layers[i], dropout(torch::cat({x, context}, -1)));
    x = residual(static_cast<int64_t>(i) + 1) ? y + x : y;
  }
  return x;
}

DecoderState DecoderImpl::initial_state(const Memory& memory) const {
  DecoderState s;
  const int64_t B = memory.values.size(0);
  auto zeros = torch::zeros({1, B, options.hidden_size}, memory.values.options());
  for (size_t i = 0; i < layers.size(); ++i) s.lstm.emplace_back(zeros, zeros);
  s.coverage = torch::zeros({B, memory.values.size(1)}, memory.values.options());
  return s;
}

torch::Tensor DecoderImpl::step(const torch::Tensor& emb, const Memory& memory, DecoderState& state) {
  auto in = emb.unsqueeze(0);                                    // (1, B, E)
  auto x = run_lstm(layers[0], dropout(in), &state.lstm[0]);
  if (residual(1)) x = x + in;
  auto [context, weights] = attention(x.transpose(0, 1), memory);  // (B, 1, H), (B, 1, S)
  state.coverage = state.coverage + weights.squeeze(1);
  context = context.transpose(0, 1);
  for (size_t i = 1; i < layers.size(); ++i) {
    auto y = run_lstm(layers[i], dropout(torch::cat({x, context}, -1)), &state.lstm[i]);
    x = residual(static_cast<int64_t>(i) + 1) ? y + x : y;
  }
  return x.squeeze(0);
}

}  // namespace gnmt
