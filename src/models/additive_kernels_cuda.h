#pragma once
// Fused CUDA kernels for additive (Bahdanau) attention scores, the GPU twin of additive_kernels.h:
//   scores[b,t,s] = sum_u v[u] * tanh(q[b,t,u] + k[b,s,u])
// without the (B, T, S, U) hidden tensor of the composite expression (which a 32k-token batch makes
// several GB large, written and read about ten times per step). q and k are dense row-major and of one
// dtype (float32, bfloat16 or float16, as autocast leaves them); everything is computed in float32 and
// all other arrays are float32. No torch headers: this file is compiled by nvcc (src/models/*.cu) and
// only where CMake found a CUDA compiler (GNMT_WITH_CUDA_KERNELS).
#include <cstdint>

namespace gnmt::kernels {

enum class CudaDtype { kFloat, kBFloat16, kHalf };

// scores (B, T, S) = ... ; `stream` is a cudaStream_t. Returns the CUDA error code of the launch (0 = ok).
int additive_scores_forward_cuda(const void* q, const void* k, CudaDtype dtype, const float* v, float* scores,
                                 int64_t B, int64_t T, int64_t S, int64_t U, void* stream);

// Given g = dL/dscores (B, T, S): dq (B, T, U) and dk (B, S, U) overwritten, dv (U) accumulated into (zero
// it first). Returns the CUDA error code of the launches.
int additive_scores_backward_cuda(const void* q, const void* k, CudaDtype dtype, const float* v, const float* g,
                                  float* dq, float* dk, float* dv, int64_t B, int64_t T, int64_t S, int64_t U,
                                  void* stream);

}  // namespace gnmt::kernels
