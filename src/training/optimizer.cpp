#include "training/optimizer.h"

#include <cmath>
#include <map>
#include <memory>
#include <tuple>

namespace gnmt {
namespace {

std::vector<torch::Tensor> grads_of(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters)
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

// The joint norm as a 0-dim float64 tensor on the gradients' device (no synchronisation yet).
torch::Tensor norm_tensor(const std::vector<torch::Tensor>& grads) {
  return torch::stack(at::_foreach_norm(grads, 2)).to(torch::kDouble).norm();
}

bool fused_kernel_applies(const torch::Tensor& t) {
  const auto type = t.scalar_type();
  return (t.device().is_cpu() || t.device().is_cuda()) && t.is_contiguous() &&
         (type == torch::kFloat || type == torch::kBFloat16 || type == torch::kHalf || type == torch::kDouble);
}

}  // namespace

void adam_step(torch::optim::Adam& adam) {
  torch::NoGradGuard no_grad;
  for (auto& group : adam.param_groups()) {
    for (const auto& p : group.params())
      if (p.grad().defined() && !(fused_kernel_applies(p) && fused_kernel_applies(p.grad()) &&
                                  p.grad().scalar_type() == p.scalar_type() && p.grad().device() == p.device())) {
        adam.step();  // the whole update the slow way: both paths must not mix within one step
        return;
      }
  }
  for (auto& group : adam.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    // The kernel takes the lists of one device and dtype, and one step count per tensor as a float tensor
    // on that device; tensors that share all three go together (normally: all of them, in one launch).
    struct Lists {
      std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs;
    };
    std::map<std::tuple<std::string, int, int64_t>, Lists> lists;
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = adam.state()[p.unsafeGetTensorImpl()];
      if (!slot) {  // as torch::optim::Adam creates it
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (o.amsgrad()) s->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
      s.step(s.step() + 1);
      auto& l = lists[{p.device().str(), static_cast<int>(p.scalar_type()), s.step()}];
      l.params.push_back(p);
      l.grads.push_back(p.grad());
      l.exp_avgs.push_back(s.exp_avg());
      l.exp_avg_sqs.push_back(s.exp_avg_sq());
      if (o.amsgrad()) l.max_exp_avg_sqs.push_back(s.max_exp_avg_sq());
    }
    for (auto& [key, l] : lists) {
      const auto step = torch::full({}, static_cast<double>(std::get<2>(key)),
                                    torch::TensorOptions(torch::kFloat).device(l.params.front().device()));
      const std::vector<torch::Tensor> steps(l.params.size(), step);
      at::_fused_adam_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, l.max_exp_avg_sqs, steps, o.lr(),
                       std::get<0>(o.betas()), std::get<1>(o.betas()), o.weight_decay(), o.eps(), o.amsgrad(),
                       /*maximize=*/false);
    }
  }
}

double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  const auto grads = grads_of(parameters);
  if (grads.empty()) return 0.0;
  const auto norm = norm_tensor(grads);
  if (max_norm > 0) {
    const auto factor = (max_norm / (norm + 1e-6)).clamp_max(1.0).to(grads.front().scalar_type());
    at::_foreach_mul_(grads, factor);
  }
  return norm.item<double>();
}

void scale_gradients(const std::vector<torch::Tensor>& parameters, double factor) {
  torch::NoGradGuard no_grad;
  const auto grads = grads_of(parameters);
  if (!grads.empty()) at::_foreach_mul_(grads, factor);
}

}  // namespace gnmt
