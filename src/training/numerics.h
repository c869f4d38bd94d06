#pragma once
// Guards the training loop against non-finite numbers: a step whose loss or gradient norm is NaN or
// infinite (a diverging run, a gradient explosion) is skipped - no optimizer step, no weight change -,
// counted and logged; after training.max_bad_steps such steps in a row training stops with one message.
#include <cstdint>

namespace gnmt {

class StepGuard {
 public:
  explicit StepGuard(int64_t max_bad_steps) : max_bad_steps_(max_bad_steps) {}

  // Call after backward() with the loss and the gradient norm (clip_gradients() measures it). Returns true
  // when the update may be applied. Returns false, and logs "step N: ... update skipped", when either is not
  // finite; throws gnmt::Error once max_bad_steps steps in a row were skipped.
  bool check(double loss, double gradient_norm, int64_t step);

  int64_t skipped_in_a_row() const { return in_a_row_; }
  int64_t skipped_total() const { return total_; }

 private:
  int64_t max_bad_steps_;
  int64_t in_a_row_ = 0;
  int64_t total_ = 0;
};

}  // namespace gnmt
