// The same test bodies on every device this machine has: CPU always, CUDA when a GPU is present (they are
// skipped, with the reason, where there is none). scripts/gpu_check.sh runs them on a GPU machine.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <regex>

#include "models/attention.h"
#include "models/model.h"
#include "training/mixed_precision.h"
#include "translator/beam_search.h"
#include "test_util.h"

namespace gnmt {

void expect_update_equals_libtorch(const torch::Device& device);  // optimizer_test.cpp

namespace {

using test::make_reversal_corpus;
using test::run_gnmt;
using test::TempDir;

class OnDevice : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda" && !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device on this machine";
    // cuDNN's LSTMs use TF32 in fp32 by default (10-bit mantissa): the comparisons with the CPU want IEEE fp32.
    tf32_ = at::globalContext().allowTF32CuDNN();
    at::globalContext().setAllowTF32CuDNN(false);
  }
  void TearDown() override { at::globalContext().setAllowTF32CuDNN(tf32_); }
  bool tf32_ = true;
  torch::Device device() const { return torch::Device(GetParam() == "cuda" ? "cuda:0" : "cpu"); }
};

ModelOptions options() {
  ModelOptions o;
  o.vocab_size = 40;
  o.emb_dim = 32;
  o.hidden_size = 32;
  o.enc_layers = 4;
  o.dec_layers = 4;
  o.residual_start = 3;
  o.dropout = 0.0;
  return o;
}

// A padded batch: sources of lengths 6, 2, 4, targets of lengths 5, 3, 6 (time-major).
struct Sample { torch::Tensor src, src_len, tgt_in, tgt_out; };
Sample sample() {
  torch::manual_seed(3);
  auto src = torch::randint(4, 40, {6, 3}, torch::kLong), tgt = torch::randint(4, 40, {7, 3}, torch::kLong);
  auto len = torch::tensor({6, 2, 4}, torch::kLong);
  for (int64_t b = 0; b < 3; ++b) src.index_put_({torch::indexing::Slice(len[b].item<int64_t>()), b}, 0);
  auto tgt_len = std::vector<int64_t>{5, 3, 6};
  for (int64_t b = 0; b < 3; ++b) tgt.index_put_({torch::indexing::Slice(tgt_len[b] + 1), b}, 0);
  return {src, len, tgt.slice(0, 0, 6), tgt.slice(0, 1, 7)};
}

// Forward and backward on the device give the CPU's values (cuDNN LSTMs and the composite attention on CUDA,
// the fused CPU kernels on CPU).
TEST_P(OnDevice, ForwardAndGradientsEqualTheCpuValues) {
  torch::manual_seed(0);
  GnmtModel ref(options(), 40);
  GnmtModel model(options(), 40);
  {
    torch::NoGradGuard no_grad;
    auto src = ref->named_parameters();
    for (auto& p : model->named_parameters()) p.value().copy_(src[p.key()]);
  }
  model->to(device());
  auto s = sample();
  auto run = [&](GnmtModel& m, const torch::Device& d) {
    auto logits = m(s.src.to(d), s.src_len.to(d), s.tgt_in.to(d));
    smoothed_loss(logits, s.tgt_out.to(d), 0.1).backward();
    return logits.cpu();
  };
  auto expected = run(ref, torch::kCPU), got = run(model, device());
  EXPECT_TRUE(torch::allclose(got, expected, 1e-4, 1e-5)) << (got - expected).abs().max();
  auto ref_params = ref->named_parameters();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::allclose(p.value().grad().cpu(), ref_params[p.key()].grad(), 1e-3, 1e-5)) << p.key();
  }
}

// The attention scores v . tanh(q_t + k_s) and their gradients (the fused kernels where the device has
// them: CUDA for T > 1, the CPU ones for fp32) against the composite expression in float64 on the CPU, for
// fp32 and bf16 inputs and sizes that are not multiples of the kernels' tiles.
TEST_P(OnDevice, AttentionScoresEqualTheCompositeExpressionInDouble) {
  torch::manual_seed(4);
  const int64_t B = 3, T = 20, S = 37, U = 70;
  for (auto dtype : {torch::kFloat, torch::kBFloat16}) {
    auto q = (torch::randn({B, T, U}) * 0.7).to(dtype), k = (torch::randn({B, S, U}) * 0.7).to(dtype);
    auto v = torch::randn({U}) * 0.3, upstream = torch::randn({B, T, S});
    // Reference: the same (rounded) values in float64.
    auto q64 = q.to(torch::kDouble).requires_grad_(), k64 = k.to(torch::kDouble).requires_grad_();
    auto v64 = v.to(torch::kDouble).requires_grad_();
    auto ref = torch::matmul(torch::tanh(q64.unsqueeze(2) + k64.unsqueeze(1)), v64);
    (ref * upstream.to(torch::kDouble)).sum().backward();
    auto qd = q.to(device()).requires_grad_(), kd = k.to(device()).requires_grad_(), vd = v.to(device()).requires_grad_();
    const bool bf16 = dtype == torch::kBFloat16;
    torch::Tensor got;
    {
      AutocastScope autocast(bf16 ? "bf16" : "fp32", device());  // bf16 q, k with fp32 v, as in the model
      got = additive_scores(qd, kd, vd, /*fused=*/true);
    }
    (got.to(torch::kFloat) * upstream.to(device())).sum().backward();
    // fp32 arithmetic on exact inputs: 1e-5. bf16: composite paths round the hidden tensor to bf16 too.
    const double rtol = bf16 ? 3e-2 : 1e-5, atol = bf16 ? 3e-2 : 1e-5;
    auto close = [&](const torch::Tensor& a, const torch::Tensor& b, const char* what) {
      auto x = a.cpu().to(torch::kDouble);
      EXPECT_TRUE(torch::allclose(x, b, rtol, atol * b.abs().max().item<double>()))
          << what << " (" << (bf16 ? "bf16" : "fp32") << "): max error " << (x - b).abs().max().item<double>()
          << " of max " << b.abs().max().item<double>();
    };
    close(got, ref.detach(), "scores");
    close(qd.grad(), q64.grad(), "dq");
    close(kd.grad(), k64.grad(), "dk");
    close(vd.grad(), v64.grad(), "dv");
    EXPECT_EQ(qd.grad().scalar_type(), dtype);
  }
}

// Under bf16 autocast the logits stay within bf16 rounding of the fp32 ones; the weights stay fp32.
TEST_P(OnDevice, Bf16AutocastStaysCloseToFp32) {
  torch::manual_seed(0);
  GnmtModel model(options(), 40);
  model->to(device());
  model->eval();
  auto s = sample();
  torch::NoGradGuard no_grad;
  auto fp32 = model(s.src.to(device()), s.src_len.to(device()), s.tgt_in.to(device())).cpu();
  torch::Tensor bf16;
  {
    AutocastScope scope("bf16", device());
    bf16 = model(s.src.to(device()), s.src_len.to(device()), s.tgt_in.to(device())).to(torch::kFloat).cpu();
  }
  EXPECT_LT((bf16 - fp32).abs().max().item<double>(), 0.05 * fp32.abs().max().item<double>() + 0.05);
  EXPECT_FALSE(torch::equal(bf16, fp32));  // autocast did change the arithmetic
  for (const auto& p : model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
}

// Beam search gives the same translations on the device as on the CPU.
TEST_P(OnDevice, BeamSearchMatchesTheCpu) {
  torch::manual_seed(1);
  GnmtModel ref(options(), 40);
  ref->eval();
  GnmtModel model(options(), 40);
  {
    torch::NoGradGuard no_grad;
    auto src = ref->named_parameters();
    for (auto& p : model->named_parameters()) p.value().copy_(src[p.key()]);
  }
  model->to(device());
  model->eval();
  auto s = sample();
  DecodingOptions d;
  d.beam = 4;
  auto expected = beam_search(ref, s.src, s.src_len, d);
  auto got = beam_search(model, s.src.to(device()), s.src_len.to(device()), d);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].tokens, expected[i].tokens) << "sentence " << i;
}

// End to end through the binary on the device: the tiny model learns the reversal task (fp32 and, on CUDA,
// fp16 with dynamic loss scaling and bf16).
TEST_P(OnDevice, TrainsTheToyTaskEndToEnd) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 3000, 51);
  make_reversal_corpus(d / "test.src", d / "test.tgt", 100, 52);
  std::vector<std::string> precisions = {"fp32"};
  if (GetParam() == "cuda") precisions = {"fp32", "bf16", "fp16"};
  for (const auto& precision : precisions) {
    SCOPED_TRACE(precision);
    const std::string run = d / ("run-" + precision);
    // 2500 steps, as in Cli.LearnsToReverseSequencesToBleuAbove90: the task is learnt suddenly, somewhere
    // between steps 1000 and 2000 depending on float rounding (an ASan build was still at loss 1.44 at 1500).
    auto t = run_gnmt("train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml --set data.train_src=" + (d / "train.src") +
                      " --set data.train_tgt=" + (d / "train.tgt") + " --set run_dir=" + run + " --set device=" + GetParam() +
                      " --set training.precision=" + precision + " --set training.max_steps=2500");
    ASSERT_EQ(t.exit_code, 0) << t.output;
    auto tr = run_gnmt("translate -m " + run + "/last.pt -i " + (d / "test.src") + " -o " + (d / ("hyp-" + precision)) +
                       " --device " + GetParam());
    ASSERT_EQ(tr.exit_code, 0) << tr.output;
    auto sc = run_gnmt("score " + (d / "test.tgt") + " -i " + (d / ("hyp-" + precision)) + " --score-only");
    ASSERT_EQ(sc.exit_code, 0) << sc.output;
    EXPECT_GT(std::stod(sc.output), 80.0) << t.output;
  }
}

// The multi-tensor gradient clipping and Adam update (ATen's fused kernel) give LibTorch's per-parameter values.
TEST_P(OnDevice, UpdateEqualsLibTorchAdamAndClipGradNorm) { expect_update_equals_libtorch(device()); }

INSTANTIATE_TEST_SUITE_P(Devices, OnDevice, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gnmt
