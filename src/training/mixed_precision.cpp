#include "training/mixed_precision.h"

#include <ATen/autocast_mode.h>

#include <algorithm>

namespace gnmt {

at::ScalarType autocast_dtype(const std::string& precision) {
  if (precision == "bf16") return at::kBFloat16;
  if (precision == "fp16") return at::kHalf;
  return at::kFloat;
}

AutocastScope::AutocastScope(const std::string& precision, const torch::Device& device) {
  if (precision == "fp32") return;
  active_ = true;
  device_type_ = device.type();
  was_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  old_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::set_autocast_dtype(device_type_, autocast_dtype(precision));
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();  // casts of the weights
  at::autocast::set_autocast_enabled(device_type_, was_enabled_);
  at::autocast::set_autocast_dtype(device_type_, old_dtype_);
}

bool LossScaler::update(bool grads_finite) {
  if (!grads_finite) {
    if (enabled) scale = std::max(scale / 2, 1.0);
    good_steps = 0;
    return false;
  }
  if (enabled && ++good_steps >= growth_interval) {
    scale = std::min(scale * 2, 16777216.0 * 65536.0);
    good_steps = 0;
  }
  return true;
}

}  // namespace gnmt
