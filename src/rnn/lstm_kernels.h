#pragma once
// Fused CPU kernels for the pointwise part of an LSTM step (PyTorch gate order i, f, g, o):
//   i, f, o = sigmoid(.), g = tanh(.), c' = f * c + i * g, h' = o * tanh(c').
// The gate GEMMs are done by the caller (rnn/fused_lstm.cpp). Arrays are dense row-major float32, rows
// [b_begin, b_end) only (callers parallelise over rows). No torch headers: compiled with -O3.
#include <cstdint>

namespace gnmt::kernels {

// gates (B, 4H): pre-activations in, activations out (in place). c_prev (B, H) or null (zeros).
// Writes c (B, H) and h (B, H).
void lstm_cell_forward(float* gates, const float* c_prev, float* c, float* h, int64_t b_begin, int64_t b_end,
                       int64_t H);

// act (B, 4H): the activations saved by the forward; c (B, H) this step's cell; c_prev (B, H) or null.
// dh = dh_out + dh_next (B, H each, dh_next may be null) is the gradient of this step's h. dc (B, H): in,
// the gradient of this step's c from the next step; out, the gradient of c_prev. Writes dgates (B, 4H),
// the gradient of the pre-activations.
void lstm_cell_backward(const float* act, const float* c_prev, const float* c, const float* dh_out,
                        const float* dh_next, float* dc, float* dgates, int64_t b_begin, int64_t b_end, int64_t H);

}  // namespace gnmt::kernels
