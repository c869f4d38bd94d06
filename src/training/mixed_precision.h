#pragma once
// Mixed precision: the forward pass under autocast (bf16 or fp16 matrix products, fp32 where autocast keeps
// it: softmax, losses, reductions) with fp32 master weights; fp16 with dynamic loss scaling.
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace gnmt {

// The dtype the matrix products of `precision` (fp32 | bf16 | fp16) compute in.
at::ScalarType autocast_dtype(const std::string& precision);

// Autocast for the scope (nothing for "fp32"). `precision`: fp32 | bf16 | fp16.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  at::DeviceType device_type_ = at::kCPU;
  bool was_enabled_ = false;
  at::ScalarType old_dtype_ = at::kFloat;
};

// Dynamic loss scaling as torch.amp.GradScaler does it: multiply the loss by `scale` before backward, divide
// the gradients by it after; a step whose gradients hold inf/nan is skipped and halves the scale; after
// `growth_interval` good steps in a row the scale doubles.
struct LossScaler {
  double scale = 65536.0;         // current factor (1 = scaling off)
  int64_t good_steps = 0;         // finite steps since the last change
  int64_t growth_interval = 2000; // good steps before the scale doubles
  bool enabled = false;

  // Call after each update attempt; returns false when the step must be skipped (non-finite gradients).
  bool update(bool grads_finite);
};

}  // namespace gnmt
