// The fused CPU LSTM (rnn/fused_lstm.h) against torch::nn::LSTM with the same weights: outputs, final
// states and the gradients of every input and weight; run_lstm's state handling step by step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rnn/fused_lstm.h"
#include "rnn/residual_lstm.h"

namespace gnmt {
namespace {

struct Case {
  torch::nn::LSTM lstm{nullptr};
  torch::Tensor x, h0, c0;
};

Case make_case(int64_t T, int64_t B, int64_t I, int64_t H, uint64_t seed) {
  torch::manual_seed(seed);
  Case c;
  c.lstm = torch::nn::LSTM(torch::nn::LSTMOptions(I, H));
  torch::NoGradGuard ng;
  for (auto& p : c.lstm->parameters()) p.uniform_(-0.5, 0.5);  // wide enough to saturate some gates
  c.x = torch::randn({T, B, I});
  c.h0 = torch::randn({B, H}) * 0.5;
  c.c0 = torch::randn({B, H});
  return c;
}

TEST(FusedLstm, ForwardMatchesTorchLstm) {
  for (bool with_state : {false, true}) {
    auto c = make_case(7, 5, 6, 4, 11);
    torch::NoGradGuard ng;
    auto w = c.lstm->all_weights();
    torch::Tensor h0 = with_state ? c.h0 : torch::Tensor(), c0 = with_state ? c.c0 : torch::Tensor();
    auto [out, h, cell] = fused_lstm(c.x, h0, c0, w[0], w[1], w[2], w[3]);
    auto [ref, st] = with_state ? c.lstm->forward(c.x, std::make_tuple(c.h0.unsqueeze(0), c.c0.unsqueeze(0)))
                                : c.lstm->forward(c.x);
    EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-6)) << (out - ref).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(h, std::get<0>(st)[0], 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(cell, std::get<1>(st)[0], 1e-5, 1e-6));
  }
}

TEST(FusedLstm, GradientsMatchTorchLstm) {
  auto c = make_case(6, 3, 5, 4, 12);
  // A loss that uses every output: all steps' outputs and both final states, with random weights.
  auto r_out = torch::randn({6, 3, 4}), r_h = torch::randn({3, 4}), r_c = torch::randn({3, 4});
  auto grads = [&](bool fused) {
    auto x = c.x.clone().requires_grad_(), h0 = c.h0.clone().requires_grad_(), c0 = c.c0.clone().requires_grad_();
    auto params = c.lstm->all_weights();
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor out, h, cell;
    if (fused) {
      std::tie(out, h, cell) = fused_lstm(x, h0, c0, params[0], params[1], params[2], params[3]);
    } else {
      auto [o, st] = c.lstm->forward(x, std::make_tuple(h0.unsqueeze(0), c0.unsqueeze(0)));
      out = o, h = std::get<0>(st)[0], cell = std::get<1>(st)[0];
    }
    ((out * r_out).sum() + (h * r_h).sum() + (cell * r_c).sum()).backward();
    std::vector<torch::Tensor> g{x.grad(), h0.grad(), c0.grad()};
    for (auto& p : params) g.push_back(p.grad().clone());
    return g;
  };
  auto fused = grads(true), ref = grads(false);
  const char* names[] = {"x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"};
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_TRUE(fused[i].defined()) << names[i];
    EXPECT_TRUE(torch::allclose(fused[i], ref[i], 1e-4, 1e-5))
        << names[i] << ": max difference " << (fused[i] - ref[i]).abs().max().item<float>();
  }
}

TEST(FusedLstm, RunLstmStepByStepEqualsWholeSequenceAndModule) {
  auto c = make_case(5, 2, 3, 4, 13);
  torch::NoGradGuard ng;
  auto whole = run_lstm(c.lstm, c.x);
  std::tuple<torch::Tensor, torch::Tensor> state;
  std::vector<torch::Tensor> steps;
  for (int64_t t = 0; t < 5; ++t) steps.push_back(run_lstm(c.lstm, c.x.slice(0, t, t + 1), &state));
  EXPECT_TRUE(torch::allclose(torch::cat(steps, 0), whole, 1e-6, 1e-7));
  EXPECT_EQ(std::get<0>(state).sizes(), (std::vector<int64_t>{1, 2, 4}));
  set_fused_lstm(false);
  auto module = run_lstm(c.lstm, c.x);
  set_fused_lstm(true);
  EXPECT_TRUE(torch::allclose(whole, module, 1e-5, 1e-6));
  EXPECT_FALSE(torch::equal(whole, module)) << "set_fused_lstm(false) should have run the module";
}

TEST(FusedLstm, SingleStepWithHandComputedGates) {
  // T = 1, B = 1, I = 1, H = 1 with chosen weights: every gate value written out.
  auto lstm = torch::nn::LSTM(torch::nn::LSTMOptions(1, 1));
  torch::NoGradGuard ng;
  auto w = lstm->all_weights();
  w[0].copy_(torch::tensor({{0.5f}, {-1.f}, {2.f}, {1.f}}));  // input weights of i, f, g, o
  w[1].copy_(torch::tensor({{1.f}, {0.5f}, {-0.5f}, {0.25f}}));
  w[2].copy_(torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}));
  w[3].zero_();
  const double x = 0.8, h0 = -0.4, c0 = 0.6;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  double i = sig(0.5 * x + h0 + 0.1), f = sig(-x + 0.5 * h0 + 0.2), g = std::tanh(2 * x - 0.5 * h0 + 0.3),
         o = sig(x + 0.25 * h0 + 0.4);
  double c = f * c0 + i * g, h = o * std::tanh(c);
  auto [out, hT, cT] = fused_lstm(torch::full({1, 1, 1}, x), torch::full({1, 1}, h0), torch::full({1, 1}, c0), w[0], w[1],
                                  w[2], w[3]);
  EXPECT_NEAR(out.item<double>(), h, 1e-6);
  EXPECT_NEAR(hT.item<double>(), h, 1e-6);
  EXPECT_NEAR(cT.item<double>(), c, 1e-6);
}

}  // namespace
}  // namespace gnmt
