#include "training/numerics.h"

#include <spdlog/spdlog.h>
#include <torch/nn/utils/clip_grad.h>

#include <cmath>

#include "common/error.h"

namespace gnmt {

double gradient_norm(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  for (const auto& p : parameters)
    if (p.grad().defined()) sum += p.grad().detach().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sum);
}

bool StepGuard::check_and_clip(double loss, const std::vector<torch::Tensor>& parameters, double clip_norm,
                               int64_t step) {
  // clip_grad_norm_ returns the norm before clipping; without clipping it is computed on its own.
  const double norm = std::isfinite(loss) ? (clip_norm > 0 ? torch::nn::utils::clip_grad_norm_(parameters, clip_norm)
                                                           : gradient_norm(parameters))
                                          : 0.0;
  if (std::isfinite(loss) && std::isfinite(norm)) {
    in_a_row_ = 0;
    return true;
  }
  ++in_a_row_;
  ++total_;
  const std::string what = std::isfinite(loss) ? "gradient norm is " + std::to_string(norm) + " (gradient explosion)"
                                               : "loss is " + std::to_string(loss);
  spdlog::warn("step {}: {}; update skipped ({} in a row, {} in total)", step, what, in_a_row_, total_);
  if (in_a_row_ >= max_bad_steps_)
    throw Error("training diverged at step " + std::to_string(step) + ": " + std::to_string(in_a_row_) +
                " steps in a row with a non-finite loss or gradient norm (training.max_bad_steps = " +
                std::to_string(max_bad_steps_) + "); lower training.lr or set training.clip_norm; the last checkpoint is unchanged");
  return false;
}

}  // namespace gnmt
