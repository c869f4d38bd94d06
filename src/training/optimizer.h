#pragma once
// The update half of a training step, done for all parameters at once. LibTorch's torch::optim::Adam and
// clip_grad_norm_ loop over the parameters, about ten small operations each: on a GPU that is ~500 kernel
// launches per step for the 4+4x1024 model. Here ATen's multi-tensor kernels do the same arithmetic - the
// ones torch.optim.Adam(fused=True) and clip_grad_norm_(foreach=True) run in Python - in a handful of
// launches, with one host synchronisation for the gradient norm.
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <vector>

namespace gnmt {

// One Adam update of every parameter that has a gradient, with the arithmetic of torch::optim::Adam::step
// (L2 weight decay added to the gradient, bias-corrected moments, amsgrad if set). It works on the state of
// `adam` itself - step counts, exp_avg, exp_avg_sq - so checkpoints save and load it as before. Uses ATen's
// fused kernel (_fused_adam_) on CPU and CUDA float64/32, bf16 and fp16 parameters; falls back to adam.step()
// where that kernel does not apply (another device, non-contiguous tensors).
void adam_step(torch::optim::Adam& adam);

// Scales the gradients so that their joint L2 norm is at most max_norm (torch::nn::utils::clip_grad_norm_'s
// arithmetic: factor min(1, max_norm / (norm + 1e-6))); max_norm <= 0 only measures. Returns the norm before
// clipping: the L2 norm of all gradients together (parameters without a gradient are left out), in float64
// from per-tensor norms, one host synchronisation; NaN or inf when a gradient holds NaN or inf. Non-finite
// norms leave the gradients non-finite (the step guard then skips the update).
double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm);

// grad *= factor for every parameter that has a gradient (fp16 loss-scale removal), in one multi-tensor op.
void scale_gradients(const std::vector<torch::Tensor>& parameters, double factor);

}  // namespace gnmt
