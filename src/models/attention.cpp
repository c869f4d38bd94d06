#include "models/attention.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "models/additive_kernels.h"
#ifdef GNMT_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "models/additive_kernels_cuda.h"
#endif

namespace gnmt {
namespace {

// scores (B, T, S) = v . tanh(q (B, T, U) + k (B, S, U)) through the fused CPU kernels: the same values as
// the composite expression, without its (B, T, S, U) intermediates (memory O(B*T*S), not O(B*T*S*U)).
struct FusedAdditiveScores : torch::autograd::Function<FusedAdditiveScores> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor q, torch::Tensor k,
                               torch::Tensor v) {
    q = q.contiguous();
    k = k.contiguous();
    v = v.contiguous();
    ctx->save_for_backward({q, k, v});
    const int64_t B = q.size(0), T = q.size(1), S = k.size(1), U = q.size(2);
    auto scores = torch::empty({B, T, S}, q.options());
    at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
      kernels::additive_scores_forward(q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(),
                                       scores.data_ptr<float>(), b0, b1, T, S, U);
    });
    return scores;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    auto q = saved[0], k = saved[1], v = saved[2];
    auto g = grads[0].contiguous();
    const int64_t B = q.size(0), T = q.size(1), S = k.size(1), U = q.size(2);
    auto dq = torch::empty_like(q), dk = torch::empty_like(k);
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(B, at::get_num_threads()));
    auto dv_parts = torch::zeros({chunks, U}, q.options());
    const int64_t per = (B + chunks - 1) / chunks;
    at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        int64_t b0 = c * per, b1 = std::min(B, b0 + per);
        if (b0 >= b1) continue;
        kernels::additive_scores_backward(q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(),
                                          g.data_ptr<float>(), dq.data_ptr<float>(), dk.data_ptr<float>(),
                                          dv_parts[c].data_ptr<float>(), b0, b1, T, S, U);
      }
    });
    return {dq, dk, dv_parts.sum(0)};
  }
};

#ifdef GNMT_WITH_CUDA_KERNELS
// The same on CUDA (models/additive_kernels_cuda.h): q and k in their dtype (bf16/fp16 under autocast, or
// fp32), v and the scores in fp32; the gradients of q and k are returned in q's and k's dtype.
struct CudaAdditiveScores : torch::autograd::Function<CudaAdditiveScores> {
  static kernels::CudaDtype dtype_of(const torch::Tensor& t) {
    if (t.scalar_type() == torch::kBFloat16) return kernels::CudaDtype::kBFloat16;
    if (t.scalar_type() == torch::kHalf) return kernels::CudaDtype::kHalf;
    return kernels::CudaDtype::kFloat;
  }
  static void check(int err, const char* what) {
    TORCH_CHECK(err == 0, "additive attention CUDA kernel (", what, ") failed: ",
                cudaGetErrorString(static_cast<cudaError_t>(err)));
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor q, torch::Tensor k,
                               torch::Tensor v) {
    q = q.contiguous();
    k = k.to(q.scalar_type()).contiguous();
    v = v.to(torch::kFloat).contiguous();
    ctx->save_for_backward({q, k, v});
    const int64_t B = q.size(0), T = q.size(1), S = k.size(1), U = q.size(2);
    auto scores = torch::empty({B, T, S}, q.options().dtype(torch::kFloat));
    c10::cuda::CUDAGuard guard(q.device());
    check(kernels::additive_scores_forward_cuda(q.data_ptr(), k.data_ptr(), dtype_of(q), v.data_ptr<float>(),
                                                scores.data_ptr<float>(), B, T, S, U,
                                                c10::cuda::getCurrentCUDAStream(q.device().index()).stream()),
          "forward");
    return scores;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    auto q = saved[0], k = saved[1], v = saved[2];
    auto g = grads[0].to(torch::kFloat).contiguous();
    const int64_t B = q.size(0), T = q.size(1), S = k.size(1), U = q.size(2);
    auto f32 = q.options().dtype(torch::kFloat);
    auto dq = torch::empty({B, T, U}, f32), dk = torch::empty({B, S, U}, f32), dv = torch::zeros({U}, f32);
    c10::cuda::CUDAGuard guard(q.device());
    check(kernels::additive_scores_backward_cuda(q.data_ptr(), k.data_ptr(), dtype_of(q), v.data_ptr<float>(),
                                                 g.data_ptr<float>(), dq.data_ptr<float>(), dk.data_ptr<float>(),
                                                 dv.data_ptr<float>(), B, T, S, U,
                                                 c10::cuda::getCurrentCUDAStream(q.device().index()).stream()),
          "backward");
    return {dq.to(q.scalar_type()), dk.to(k.scalar_type()), dv};
  }
};
#endif

}  // namespace

torch::Tensor additive_scores(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool fused) {
  if (fused && q.device().is_cpu() && q.scalar_type() == torch::kFloat && k.scalar_type() == torch::kFloat &&
      v.scalar_type() == torch::kFloat)
    return FusedAdditiveScores::apply(q, k, v);
#ifdef GNMT_WITH_CUDA_KERNELS
  // Teacher-forced steps (T > 1): the fused kernels. A decoding step (T = 1) is too small for them to pay.
  static const bool cuda_disabled = [] {
    const char* e = std::getenv("GNMT_CUDA_ATTENTION");
    return e && std::strcmp(e, "composite") == 0;
  }();
  if (fused && !cuda_disabled && q.is_cuda() && q.size(1) > 1) {
    const auto t = q.scalar_type();
    if (t == torch::kFloat || t == torch::kBFloat16 || t == torch::kHalf) return CudaAdditiveScores::apply(q, k, v);
  }
#endif
  return torch::matmul(torch::tanh(q.unsqueeze(2) + k.unsqueeze(1)), v);  // (B, T, S, U) -> (B, T, S)
}

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
  auto scores = additive_scores(q, m.keys, v_norm, fused);           // (B, T, S)
  scores = scores.masked_fill(~m.mask.unsqueeze(1), -std::numeric_limits<float>::infinity());
  auto weights = torch::softmax(scores, -1);
  auto context = torch::bmm(weights, m.values);                      // (B, T, K)
  return {context, weights};
}

}  // namespace gnmt
