#pragma once
// Guards the training loop against non-finite numbers: a step whose loss or gradient norm is NaN or
// infinite (a diverging run, a gradient explosion) is skipped - no optimizer step, no weight change -,
// counted and logged; after training.max_bad_steps such steps in a row training stops with one message.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace gnmt {

// The L2 norm of all gradients together (parameters without a gradient are left out).
double gradient_norm(const std::vector<torch::Tensor>& parameters);

class StepGuard {
 public:
  explicit StepGuard(int64_t max_bad_steps) : max_bad_steps_(max_bad_steps) {}

  // Call after backward(). Clips the gradients to `clip_norm` (0 = no clipping) and returns true when the
  // update may be applied. Returns false, and logs "step N: ... update skipped", when `loss` or the gradient
  // norm is not finite; throws gnmt::Error once max_bad_steps steps in a row were skipped.
  bool check_and_clip(double loss, const std::vector<torch::Tensor>& parameters, double clip_norm, int64_t step);

  int64_t skipped_in_a_row() const { return in_a_row_; }
  int64_t skipped_total() const { return total_; }

 private:
  int64_t max_bad_steps_;
  int64_t in_a_row_ = 0;
  int64_t total_ = 0;
};

}  // namespace gnmt
