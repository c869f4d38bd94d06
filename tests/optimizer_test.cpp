// The multi-tensor update (training/optimizer.h) against hand-computed values and against LibTorch's own
// torch::optim::Adam and clip_grad_norm_. Devices/OnDevice.UpdateEqualsLibTorchAdamAndClipGradNorm runs the
// LibTorch comparison on CUDA too.
#include <gtest/gtest.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "training/optimizer.h"

namespace gnmt {
namespace {

torch::Tensor leaf(std::vector<float> v) { return torch::tensor(v).requires_grad_(); }

TEST(Optimizer, FirstAdamStepsMatchHandComputedValues) {
  // Step 1 from a zero state: m = (1-b1) g, v = (1-b2) g^2, and after bias correction the update is
  // lr * g / (|g| + eps): p = 1 - 0.1 * 2 / (2 + 1e-8), q = -3 + 0.1 * 0.5 / (0.5 + 1e-8).
  auto p = leaf({1.0f}), q = leaf({-3.0f});
  torch::optim::Adam adam({p, q}, torch::optim::AdamOptions(0.1).betas({0.9, 0.99}).eps(1e-8));
  p.mutable_grad() = torch::tensor({2.0f});
  q.mutable_grad() = torch::tensor({-0.5f});
  adam_step(adam);
  EXPECT_NEAR(p.item<double>(), 0.9, 1e-7);
  EXPECT_NEAR(q.item<double>(), -2.9, 1e-7);
  // Step 2 with g = 1 for p: m = 0.9 * 0.2 + 0.1 * 1 = 0.28, v = 0.99 * 0.04 + 0.01 * 1 = 0.0496;
  // m^ = 0.28 / (1 - 0.81) = 1.47368..., v^ = 0.0496 / (1 - 0.9801) = 2.49246...;
  // p = 0.9 - 0.1 * 1.47368 / (sqrt(2.49246) + 1e-8) = 0.9 - 0.0933457... = 0.806654...
  p.mutable_grad() = torch::tensor({1.0f});
  q.mutable_grad() = torch::Tensor();  // no gradient: q is left alone and its step count stays at 1
  adam_step(adam);
  const double m = 0.28 / 0.19, v = 0.0496 / 0.0199;
  EXPECT_NEAR(p.item<double>(), 0.9 - 0.1 * m / (std::sqrt(v) + 1e-8), 1e-6);
  EXPECT_NEAR(q.item<double>(), -2.9, 1e-7);
  auto state = [&](const torch::Tensor& t) -> torch::optim::AdamParamState& {
    return static_cast<torch::optim::AdamParamState&>(*adam.state().at(t.unsafeGetTensorImpl()));
  };
  EXPECT_EQ(state(p).step(), 2);
  EXPECT_EQ(state(q).step(), 1);
  EXPECT_NEAR(state(p).exp_avg().item<double>(), 0.28, 1e-7);
  EXPECT_NEAR(state(p).exp_avg_sq().item<double>(), 0.0496, 1e-7);
}

// Parameters of several shapes, one of which misses its gradient now and then (so the step counts differ
// and the update runs in two groups); L2 weight decay and amsgrad on and off.
void expect_same_as_libtorch_adam(const torch::Device& device, bool amsgrad) {
  torch::manual_seed(11);
  auto opts = torch::TensorOptions().device(device);
  std::vector<torch::Tensor> a{torch::randn({5, 7}, opts), torch::randn({7}, opts), torch::randn({3, 2, 4}, opts)};
  std::vector<torch::Tensor> b;
  for (auto& t : a) { t.requires_grad_(); b.push_back(t.detach().clone().requires_grad_()); }
  auto options = torch::optim::AdamOptions(3e-3).betas({0.9, 0.98}).eps(1e-9).weight_decay(0.01).amsgrad(amsgrad);
  torch::optim::Adam ours(a, options), theirs(b, options);
  for (int step = 0; step < 7; ++step) {
    for (size_t i = 0; i < a.size(); ++i) {
      const bool missing = i == 2 && step % 3 == 1;
      auto g = torch::randn(a[i].sizes(), opts) * (1.0 + static_cast<double>(step));
      a[i].mutable_grad() = missing ? torch::Tensor() : g.clone();
      b[i].mutable_grad() = missing ? torch::Tensor() : g.clone();
    }
    // Clipped as the trainer does (the gradients grow with the step, so clipping bites from step 2 on).
    std::vector<torch::Tensor> with_grad;
    for (auto& t : b) if (t.grad().defined()) with_grad.push_back(t);
    const double ours_norm = clip_gradients(a, 15.0), theirs_norm = torch::nn::utils::clip_grad_norm_(with_grad, 15.0);
    EXPECT_NEAR(ours_norm, theirs_norm, 1e-4 * theirs_norm) << "step " << step << " on " << device;
    adam_step(ours);
    theirs.step();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i].cpu(), b[i].cpu(), 1e-5, 1e-6)) << "parameter " << i << " on " << device;
    auto& sa = static_cast<torch::optim::AdamParamState&>(*ours.state().at(a[i].unsafeGetTensorImpl()));
    auto& sb = static_cast<torch::optim::AdamParamState&>(*theirs.state().at(b[i].unsafeGetTensorImpl()));
    EXPECT_EQ(sa.step(), sb.step()) << "parameter " << i;
    EXPECT_TRUE(torch::allclose(sa.exp_avg().cpu(), sb.exp_avg().cpu(), 1e-5, 1e-7));
    EXPECT_TRUE(torch::allclose(sa.exp_avg_sq().cpu(), sb.exp_avg_sq().cpu(), 1e-5, 1e-7));
  }
}

TEST(Optimizer, AdamStepEqualsLibTorchAdam) {
  expect_same_as_libtorch_adam(torch::Device(torch::kCPU), false);
  expect_same_as_libtorch_adam(torch::Device(torch::kCPU), true);
}

TEST(Optimizer, AdamStepOnNonContiguousGradientsTakesLibTorchsPath) {
  auto p = torch::zeros({2, 3}).requires_grad_(), q = p.detach().clone().requires_grad_();
  torch::optim::Adam ours({p}, torch::optim::AdamOptions(0.1)), theirs({q}, torch::optim::AdamOptions(0.1));
  auto g = torch::arange(6, torch::kFloat).reshape({3, 2}).t();  // a transposed view: not contiguous
  ASSERT_FALSE(g.is_contiguous());
  p.mutable_grad() = g;
  q.mutable_grad() = g.clone();
  adam_step(ours);
  theirs.step();
  EXPECT_TRUE(torch::allclose(p, q));
  EXPECT_FALSE(torch::equal(p, torch::zeros({2, 3})));
}

TEST(Optimizer, GradientNormAndClipping) {
  // Gradients (3, 4) and (12): joint norm sqrt(9 + 16 + 144) = 13; a parameter without gradient is left out.
  auto p = leaf({0.0f, 0.0f}), q = leaf({0.0f}), r = leaf({5.0f});
  p.mutable_grad() = torch::tensor({3.0f, 4.0f});
  q.mutable_grad() = torch::tensor({12.0f});
  const std::vector<torch::Tensor> params{p, q, r};
  EXPECT_DOUBLE_EQ(clip_gradients(params, 0.0), 13.0);  // measures only
  EXPECT_TRUE(torch::equal(q.grad(), torch::tensor({12.0f})));
  EXPECT_DOUBLE_EQ(clip_gradients(params, 100.0), 13.0);  // below the limit: unchanged
  EXPECT_TRUE(torch::equal(q.grad(), torch::tensor({12.0f})));
  EXPECT_DOUBLE_EQ(clip_gradients(params, 6.5), 13.0);  // factor 6.5 / (13 + 1e-6)
  const double f = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(p.grad()[0].item<double>(), 3.0 * f, 1e-6);
  EXPECT_NEAR(q.grad()[0].item<double>(), 12.0 * f, 1e-6);
  EXPECT_FALSE(r.grad().defined());
  EXPECT_EQ(clip_gradients({r}, 0.0), 0.0);

  // The same as LibTorch's clip_grad_norm_ on random gradients.
  torch::manual_seed(5);
  std::vector<torch::Tensor> a, b;
  for (auto shape : std::vector<std::vector<int64_t>>{{4, 9}, {9}, {2, 3, 3}}) {
    a.push_back(torch::zeros(shape).requires_grad_());
    b.push_back(torch::zeros(shape).requires_grad_());
    auto g = torch::randn(shape) * 3;
    a.back().mutable_grad() = g.clone();
    b.back().mutable_grad() = g.clone();
  }
  EXPECT_NEAR(clip_gradients(a, 2.0), torch::nn::utils::clip_grad_norm_(b, 2.0), 1e-4);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(a[i].grad(), b[i].grad(), 1e-5, 1e-7));

  // A NaN or inf anywhere: a non-finite norm (the step guard skips that update).
  q.mutable_grad() = torch::tensor({std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(std::isfinite(clip_gradients(params, 5.0)));
  q.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_TRUE(std::isnan(clip_gradients(params, 0.0)));
}

TEST(Optimizer, ScaleGradients) {
  auto p = leaf({0.0f, 0.0f}), r = leaf({1.0f});
  p.mutable_grad() = torch::tensor({1024.0f, -3.0f});
  scale_gradients({p, r}, 1.0 / 1024.0);
  EXPECT_TRUE(torch::equal(p.grad(), torch::tensor({1.0f, -3.0f / 1024.0f})));
  EXPECT_FALSE(r.grad().defined());
}

}  // namespace

// Shared with the per-device suite (device_test.cpp).
void expect_update_equals_libtorch(const torch::Device& device) {
  expect_same_as_libtorch_adam(device, false);
  expect_same_as_libtorch_adam(device, true);
}

}  // namespace gnmt
