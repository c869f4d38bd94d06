// Fused CUDA kernels for additive attention scores (see additive_kernels_cuda.h). Tiled over (t, s) for the
// forward and over (t, u) and (s, u) for the two halves of the backward; the tiles of q, k and g go through
// shared memory, tanh is recomputed rather than stored. All arithmetic in float32.
#include "models/additive_kernels_cuda.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>

#include "models/additive_kernels_cuda.cuh"

namespace gnmt::kernels {
namespace {

using namespace device;

dim3 grid(int64_t x, int64_t tile_x, int64_t y, int64_t tile_y, int64_t B) {
  return dim3(static_cast<unsigned>((x + tile_x - 1) / tile_x), static_cast<unsigned>((y + tile_y - 1) / tile_y),
              static_cast<unsigned>(std::min<int64_t>(B, kMaxGridZ)));
}

template <typename In>
int forward_as(const void* q, const void* k, const float* v, float* scores, int64_t B, int64_t T, int64_t S, int64_t U,
               cudaStream_t stream) {
  scores_forward<In><<<grid(S, TS, T, TT, B), kFwdThreads, 0, stream>>>(static_cast<const In*>(q), static_cast<const In*>(k),
                                                                       v, scores, B, T, S, U);
  return static_cast<int>(cudaGetLastError());
}

template <typename In>
int backward_as(const void* q, const void* k, const float* v, const float* g, float* dq, float* dk, float* dv,
                int64_t B, int64_t T, int64_t S, int64_t U, cudaStream_t stream) {
  const auto* qq = static_cast<const In*>(q);
  const auto* kk = static_cast<const In*>(k);
  scores_backward_q<In><<<grid(U, BU, T, BT, B), kBwdThreads, 0, stream>>>(qq, kk, v, g, dq, dv, B, T, S, U);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  scores_backward_k<In><<<grid(U, BU, S, BS, B), kBwdThreads, 0, stream>>>(qq, kk, v, g, dk, B, T, S, U);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int additive_scores_forward_cuda(const void* q, const void* k, CudaDtype dtype, const float* v, float* scores,
                                 int64_t B, int64_t T, int64_t S, int64_t U, void* stream) {
  if (B == 0 || T == 0 || S == 0) return 0;
  auto st = static_cast<cudaStream_t>(stream);
  switch (dtype) {
    case CudaDtype::kBFloat16: return forward_as<__nv_bfloat16>(q, k, v, scores, B, T, S, U, st);
    case CudaDtype::kHalf: return forward_as<__half>(q, k, v, scores, B, T, S, U, st);
    default: return forward_as<float>(q, k, v, scores, B, T, S, U, st);
  }
}

int additive_scores_backward_cuda(const void* q, const void* k, CudaDtype dtype, const float* v, const float* g,
                                  float* dq, float* dk, float* dv, int64_t B, int64_t T, int64_t S, int64_t U,
                                  void* stream) {
  if (B == 0 || T == 0 || S == 0 || U == 0) return 0;
  auto st = static_cast<cudaStream_t>(stream);
  switch (dtype) {
    case CudaDtype::kBFloat16: return backward_as<__nv_bfloat16>(q, k, v, g, dq, dk, dv, B, T, S, U, st);
    case CudaDtype::kHalf: return backward_as<__half>(q, k, v, g, dq, dk, dv, B, T, S, U, st);
    default: return backward_as<float>(q, k, v, g, dq, dk, dv, B, T, S, U, st);
  }
}

}  // namespace gnmt::kernels
