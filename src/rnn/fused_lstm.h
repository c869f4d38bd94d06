#pragma once
// A single-layer LSTM over a whole sequence with the weights of a torch::nn::LSTM, computed as GNMT-style
// CPU code wants it: the input projections of all time steps in one GEMM, one small GEMM per step for the
// recurrence, the pointwise gate math in fused kernels (rnn/lstm_kernels.h), and in the backward pass the
// weight and input gradients of all steps in one GEMM each. Same values as torch::nn::LSTM (within float
// rounding; the gate nonlinearities use few-ulp approximations).
#include <torch/torch.h>

#include <tuple>

namespace gnmt {

// x (T, B, I); h0, c0 (B, H) (undefined = zeros) -> (out (T, B, H), h_T (B, H), c_T (B, H)), differentiable
// with respect to x, h0, c0 and the four weights. float32 CPU tensors only.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_lstm(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0, const torch::Tensor& w_ih,
    const torch::Tensor& w_hh, const torch::Tensor& b_ih, const torch::Tensor& b_hh);

// Whether fused_lstm can run `x` (float32 on the CPU, CPU autocast off).
bool fused_lstm_supports(const torch::Tensor& x);

}  // namespace gnmt
