#include "rnn/residual_lstm.h"

namespace gnmt {

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
