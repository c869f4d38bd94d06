#include "rnn/residual_lstm.h"

#include <atomic>

#include "rnn/fused_lstm.h"

namespace gnmt {
namespace {
std::atomic<bool> g_fused_lstm{true};
}  // namespace

void set_fused_lstm(bool enabled) { g_fused_lstm = enabled; }

torch::Tensor reverse_index(const torch::Tensor& lengths, int64_t max_len) {
  auto t = torch::arange(max_len, lengths.options()).unsqueeze(1);  // (S, 1)
  auto len = lengths.unsqueeze(0);                                  // (1, B)
  return torch::where(t < len, len - 1 - t, t.expand({max_len, lengths.size(0)}));
}

torch::Tensor gather_time(const torch::Tensor& x, const torch::Tensor& index) {
  auto idx = index;
  for (int64_t d = 2; d < x.dim(); ++d) idx = idx.unsqueeze(-1);
  std::vector<int64_t> sizes = x.sizes().vec();
  return x.gather(0, idx.expand(sizes));
}

torch::Tensor run_lstm(torch::nn::LSTM& lstm, const torch::Tensor& x, std::tuple<torch::Tensor, torch::Tensor>* state) {
  const auto& o = lstm->options;
  if (g_fused_lstm && fused_lstm_supports(x) && o.num_layers() == 1 && !o.bidirectional() && o.bias() &&
      o.proj_size() == 0 && !o.batch_first()) {
    torch::Tensor h0, c0;
    if (state && std::get<0>(*state).defined()) {
      h0 = std::get<0>(*state).squeeze(0);
      c0 = std::get<1>(*state).squeeze(0);
    }
    const auto w = lstm->all_weights();  // w_ih, w_hh, b_ih, b_hh
    auto [out, h, c] = fused_lstm(x, h0, c0, w[0], w[1], w[2], w[3]);
    if (state) *state = {h.unsqueeze(0), c.unsqueeze(0)};
    return out;
  }
  if (state && std::get<0>(*state).defined()) {
    auto [out, st] = lstm->forward(x, *state);
    *state = st;
    return out;
  }
  auto [out, st] = lstm->forward(x);
  if (state) *state = st;
  return out;
}

}  // namespace gnmt
