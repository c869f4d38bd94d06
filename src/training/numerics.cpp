#include "training/numerics.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "common/error.h"

namespace gnmt {

bool StepGuard::check(double loss, double norm, int64_t step) {
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
