#include "rnn/fused_lstm.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include "rnn/lstm_kernels.h"

namespace gnmt {
namespace {

// Rows per parallel task: small steps (decoding, small batches) run on one thread.
int64_t row_grain(int64_t H) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(H, 1)); }

float* ptr_or_null(const torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

struct FusedLstm : torch::autograd::Function<FusedLstm> {
  static torch::autograd::tensor_list forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor h0,
                                              torch::Tensor c0, torch::Tensor w_ih, torch::Tensor w_hh,
                                              torch::Tensor b_ih, torch::Tensor b_hh) {
    const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1);
    x = x.contiguous();
    h0 = h0.contiguous();
    c0 = c0.contiguous();
    // act holds the pre-activations of all steps (input part in one GEMM), then the activations.
    auto act = torch::addmm(b_ih + b_hh, x.view({T * B, I}), w_ih.t()).view({T, B, 4 * H});
    auto out = torch::empty({T, B, H}, x.options()), cs = torch::empty({T, B, H}, x.options());
    const auto wt = w_hh.t();
    for (int64_t t = 0; t < T; ++t) {
      auto gates = act[t];
      gates.addmm_(t > 0 ? out[t - 1] : h0, wt);
      float *g = gates.data_ptr<float>(), *c = cs[t].data_ptr<float>(), *h = out[t].data_ptr<float>();
      const float* cp = (t > 0 ? cs[t - 1] : c0).data_ptr<float>();
      at::parallel_for(0, B, row_grain(H), [&](int64_t b0, int64_t b1) { kernels::lstm_cell_forward(g, cp, c, h, b0, b1, H); });
    }
    ctx->save_for_backward({x, h0, c0, w_ih, w_hh, act, cs, out});
    return {out, out[T - 1].clone(), cs[T - 1].clone()};
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto s = ctx->get_saved_variables();
    auto x = s[0], h0 = s[1], c0 = s[2], w_ih = s[3], w_hh = s[4], act = s[5], cs = s[6], out = s[7];
    const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1);
    auto d_out = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(out);
    auto dc = grads[2].defined() ? grads[2].contiguous().clone() : torch::zeros({B, H}, x.options());
    auto dgates = torch::empty({T, B, 4 * H}, x.options());
    // Gradient of h_t from beyond step t: through step t+1's recurrence, or for the last step the final h.
    torch::Tensor dh_next = grads[1].defined() ? grads[1].contiguous() : torch::Tensor();
    for (int64_t t = T - 1; t >= 0; --t) {
      const float *a = act[t].data_ptr<float>(), *cp = (t > 0 ? cs[t - 1] : c0).data_ptr<float>(), *c = cs[t].data_ptr<float>(),
                  *dho = d_out[t].data_ptr<float>(), *dhn = ptr_or_null(dh_next);
      float *dcp = dc.data_ptr<float>(), *dg = dgates[t].data_ptr<float>();
      at::parallel_for(0, B, row_grain(H), [&](int64_t b0, int64_t b1) {
        kernels::lstm_cell_backward(a, cp, c, dho, dhn, dcp, dg, b0, b1, H);
      });
      dh_next = torch::mm(dgates[t], w_hh);
    }
    auto dg2 = dgates.view({T * B, 4 * H});
    auto d_x = torch::mm(dg2, w_ih).view({T, B, I});
    auto d_w_ih = torch::mm(dg2.t(), x.view({T * B, I}));
    // h_{t-1} for every step: h0, then the outputs but the last.
    torch::Tensor d_w_hh = T > 1 ? torch::mm(dgates.slice(0, 1).reshape({(T - 1) * B, 4 * H}).t(),
                                             out.slice(0, 0, T - 1).reshape({(T - 1) * B, H}))
                                 : torch::zeros_like(w_hh);
    d_w_hh.addmm_(dgates[0].t(), h0);
    auto d_b = dg2.sum(0);
    return {d_x, dh_next, dc, d_w_ih, d_w_hh, d_b, d_b.clone()};
  }
};

}  // namespace

// Under CPU autocast (training.precision: bf16) the module runs instead: autocast casts its matrix products,
// while the fused kernels compute in float32 only.
bool fused_lstm_supports(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && !at::autocast::is_autocast_enabled(at::kCPU);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_lstm(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0, const torch::Tensor& w_ih,
    const torch::Tensor& w_hh, const torch::Tensor& b_ih, const torch::Tensor& b_hh) {
  // Autograd functions take defined tensors only: a missing initial state is zeros.
  auto zeros = [&] { return torch::zeros({x.size(1), w_hh.size(1)}, x.options()); };
  auto r = FusedLstm::apply(x, h0.defined() ? h0 : zeros(), c0.defined() ? c0 : zeros(), w_ih, w_hh, b_ih, b_hh);
  return {r[0], r[1], r[2]};
}

}  // namespace gnmt
