#include "rnn/lstm_kernels.h"

#include "rnn/fast_math.h"

namespace gnmt::kernels {

GNMT_CLONES
void lstm_cell_forward(float* gates, const float* c_prev, float* c, float* h, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    float* gi = gates + b * 4 * H;
    float* gf = gi + H;
    float* gg = gi + 2 * H;
    float* go = gi + 3 * H;
    const float* cp = c_prev ? c_prev + b * H : nullptr;
    float* cr = c + b * H;
    float* hr = h + b * H;
#pragma GCC ivdep
    for (int64_t j = 0; j < H; ++j) {
      const float i = sigmoid_approx(gi[j]), f = sigmoid_approx(gf[j]), g = tanh_approx(gg[j]),
                  o = sigmoid_approx(go[j]);
      const float cn = (cp ? f * cp[j] : 0.f) + i * g;
      gi[j] = i;
      gf[j] = f;
      gg[j] = g;
      go[j] = o;
      cr[j] = cn;
      hr[j] = o * tanh_approx(cn);
    }
  }
}

GNMT_CLONES
void lstm_cell_backward(const float* act, const float* c_prev, const float* c, const float* dh_out,
                        const float* dh_next, float* dc, float* dgates, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; ++b) {
    const float* ai = act + b * 4 * H;
    float* di = dgates + b * 4 * H;
    const float* cp = c_prev ? c_prev + b * H : nullptr;
    const float* cr = c + b * H;
    const float* dho = dh_out + b * H;
    const float* dhn = dh_next ? dh_next + b * H : nullptr;
    float* dcr = dc + b * H;
#pragma GCC ivdep
    for (int64_t j = 0; j < H; ++j) {
      const float i = ai[j], f = ai[H + j], g = ai[2 * H + j], o = ai[3 * H + j];
      const float dh = dho[j] + (dhn ? dhn[j] : 0.f);
      const float tc = tanh_approx(cr[j]);
      const float dcn = dcr[j] + dh * o * (1.f - tc * tc);
      const float cprev = cp ? cp[j] : 0.f;
      di[j] = dcn * g * i * (1.f - i);
      di[H + j] = dcn * cprev * f * (1.f - f);
      di[2 * H + j] = dcn * i * (1.f - g * g);
      di[3 * H + j] = dh * tc * o * (1.f - o);
      dcr[j] = dcn * f;
    }
  }
}

}  // namespace gnmt::kernels
