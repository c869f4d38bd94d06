#include "models/additive_kernels.h"

#include <algorithm>
#include <vector>

namespace gnmt::kernels {
namespace {

#define GNMT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Eigen's generic_fast_tanh_float: a 13/6 rational approximation on [-7.9, 7.9]; branch-free so that
// loops using it vectorise.
inline float tanh_approx(float x) {
  const float clamp = 7.90531110763549805f;
  x = std::min(std::max(x, -clamp), clamp);
  const float x2 = x * x;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return p / q;
}

}  // namespace

float fast_tanh(float x) { return tanh_approx(x); }

GNMT_CLONES
void additive_scores_forward(const float* q, const float* k, const float* v, float* scores, int64_t b0, int64_t b1,
                             int64_t T, int64_t S, int64_t U) {
  for (int64_t b = b0; b < b1; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const float* qr = q + (b * T + t) * U;
      float* out = scores + (b * T + t) * S;
      for (int64_t s = 0; s < S; ++s) {
        const float* kr = k + (b * S + s) * U;
        float acc = 0.f;
#pragma GCC ivdep
        for (int64_t u = 0; u < U; ++u) acc += v[u] * tanh_approx(qr[u] + kr[u]);
        out[s] = acc;
      }
    }
  }
}

GNMT_CLONES
void additive_scores_backward(const float* q, const float* k, const float* v, const float* g, float* dq, float* dk,
                              float* dv, int64_t b0, int64_t b1, int64_t T, int64_t S, int64_t U) {
  std::vector<float> dv_acc(static_cast<size_t>(U), 0.f);
  float* dva = dv_acc.data();
  for (int64_t b = b0; b < b1; ++b) {
    std::fill(dk + b * S * U, dk + (b + 1) * S * U, 0.f);
    for (int64_t t = 0; t < T; ++t) {
      const float* qr = q + (b * T + t) * U;
      float* dqr = dq + (b * T + t) * U;
      std::fill(dqr, dqr + U, 0.f);
      const float* gr = g + (b * T + t) * S;
      for (int64_t s = 0; s < S; ++s) {
        const float gs = gr[s];
        if (gs == 0.f) continue;
        const float* kr = k + (b * S + s) * U;
        float* dkr = dk + (b * S + s) * U;
#pragma GCC ivdep
        for (int64_t u = 0; u < U; ++u) {
          const float th = tanh_approx(qr[u] + kr[u]);
          const float w = gs * v[u] * (1.f - th * th);
          dqr[u] += w;
          dkr[u] += w;
          dva[u] += gs * th;
        }
      }
    }
  }
  for (int64_t u = 0; u < U; ++u) dv[u] += dva[u];
}

}  // namespace gnmt::kernels
