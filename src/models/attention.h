#pragma once
// Normalized Bahdanau (additive) attention, as in GNMT v2:
//   score(q, k) = g * (v / |v|) . tanh(W_q q + W_k k + b),  weights = softmax over valid source positions.
#include <torch/torch.h>

namespace gnmt {

// Encoder output prepared for attention; batch-major so that beams can be gathered with index_select.
struct Memory {
  torch::Tensor values;  // (B, S, K) encoder outputs
  torch::Tensor keys;    // (B, S, U) W_k values + b, computed once per source batch
  torch::Tensor mask;    // (B, S) bool, true at real (non-pad) positions
  Memory index_select(const torch::Tensor& batch_index) const;
};

// v . tanh(q_t + k_s) for all t, s: q (B, T, U), k (B, S, U), v (U) -> (B, T, S). `fused` selects the
// fused kernels: the CPU ones for float32 on the CPU, the CUDA ones (models/additive_kernels_cuda.h; fp32,
// bf16 or fp16 q and k, fp32 scores) for T > 1 on a GPU when this gnmt was built with them, unless the
// environment sets GNMT_CUDA_ATTENTION=composite. Elsewhere the composite tensor expression is used.
torch::Tensor additive_scores(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool fused);

struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t query_dim, int64_t key_dim, int64_t units);

  // values (B, S, K), mask (B, S) -> Memory with projected keys.
  Memory prepare(const torch::Tensor& values, const torch::Tensor& mask);

  // queries (B, T, Q) -> (context (B, T, K), weights (B, T, S)). All T steps in one batched op.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& queries, const Memory& memory);

  torch::nn::Linear query_proj{nullptr};  // W_q, no bias
  torch::nn::Linear key_proj{nullptr};    // W_k with bias b
  torch::Tensor v;                        // (U)
  torch::Tensor g;                        // scalar gain
  bool fused = true;                      // use the fused CPU kernels for the scores (same values)
};
TORCH_MODULE(Attention);

}  // namespace gnmt
