#include "models/additive_kernels.h"

#include <algorithm>
#include <vector>

#include "rnn/fast_math.h"

namespace gnmt::kernels {

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
