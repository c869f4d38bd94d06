#pragma once
// Eigen's generic_fast_tanh_float: a 13/6 rational approximation on [-7.9, 7.9], accurate to a few ulp;
// branch-free so that loops using it vectorise. Shared by the hand-written CPU kernels.
#include <algorithm>

// Per-CPU clones (AVX-512 / AVX2 / baseline) chosen at run time, for the kernels' entry points.
#define GNMT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace gnmt::kernels {

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

// sigmoid(x) = (1 + tanh(x / 2)) / 2.
inline float sigmoid_approx(float x) { return 0.5f + 0.5f * tanh_approx(0.5f * x); }

}  // namespace gnmt::kernels
