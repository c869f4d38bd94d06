#include "models/attention.h"

#include <cmath>

namespace gnmt {

Memory Memory::index_select(const torch::Tensor& idx) const {
  return Memory{values.index_select(0, idx), keys.index_select(0, idx), mask.index_select(0, idx)};
}

AttentionImpl::AttentionImpl(int64_t query_dim, int64_t key_dim, int64_t units) {
  query_proj = register_module("query_proj", torch::nn::Linear(torch::nn::LinearOptions(query_dim, units).bias(false)));
  key_proj = register_module("key_proj", torch::nn::Linear(torch::nn::LinearOptions(key_dim, units).bias(true)));
  v = register_parameter("v", torch::empty({units}).uniform_(-0.1, 0.1));
  g = register_parameter("g", torch::full({1}, std::sqrt(1.0 / static_cast<double>(units))));
}

Memory AttentionImpl::prepare(const torch::Tensor& values, const torch::Tensor& mask) {
  return Memory{values, key_proj(values), mask};
}

std::pair<torch::Tensor, torch::Tensor> AttentionImpl::forward(const torch::Tensor& queries, const Memory& m) {
  auto q = query_proj(queries);                                      // (B, T, U)
  auto v_norm = g * v / v.norm();                                    // (U)
  auto hidden = torch::tanh(q.unsqueeze(2) + m.keys.unsqueeze(1));   // (B, T, S, U)
  auto scores = torch::matmul(hidden, v_norm);                       // (B, T, S)
  scores = scores.masked_fill(~m.mask.unsqueeze(1), -std::numeric_limits<float>::infinity());
  auto weights = torch::softmax(scores, -1);
  auto context = torch::bmm(weights, m.values);                      // (B, T, K)
  return {context, weights};
}

}  // namespace gnmt
