#pragma once
// Fused CPU kernels for additive (Bahdanau) attention scores, without materialising the (B, T, S, U)
// hidden tensor that the composite tensor expression needs in forward and backward:
//   scores[b,t,s] = sum_u v[u] * tanh(q[b,t,u] + k[b,s,u])
// All arrays are dense row-major float32. No torch headers: this file is compiled with -O3 and
// per-CPU clones (AVX-512 / AVX2 / baseline) chosen at run time.
#include <cstdint>

namespace gnmt::kernels {

// scores (B, T, S) = ...; rows [b_begin, b_end) only (callers parallelise over b).
void additive_scores_forward(const float* q, const float* k, const float* v, float* scores, int64_t b_begin,
                             int64_t b_end, int64_t T, int64_t S, int64_t U);

// Given g = dL/dscores (B, T, S): dq (B, T, U) and dk (B, S, U) for rows [b_begin, b_end) (overwritten),
// and dv (U) accumulated into. Entries with g == 0 (masked positions) are skipped.
void additive_scores_backward(const float* q, const float* k, const float* v, const float* g, float* dq, float* dk,
                              float* dv, int64_t b_begin, int64_t b_end, int64_t T, int64_t S, int64_t U);

// tanh with a rational approximation (Eigen's), accurate to a few ulp; exposed for tests.
float fast_tanh(float x);

}  // namespace gnmt::kernels
