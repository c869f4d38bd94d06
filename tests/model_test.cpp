// Model tests: shapes, residual connections computed by hand, gradient flow, beam 1 == greedy,
// checkpoint round trip. All on CPU with fixed seeds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "models/model.h"
#include "rnn/residual_lstm.h"
#include "training/checkpoint.h"
#include "translator/beam_search.h"
#include "test_util.h"

namespace gnmt {
namespace {

ModelOptions small_options(int64_t layers, int64_t residual_start) {
  ModelOptions o;
  o.vocab_size = 30;
  o.emb_dim = 8;
  o.hidden_size = 8;
  o.enc_layers = layers;
  o.dec_layers = layers;
  o.residual_start = residual_start;
  o.dropout = 0.0;
  return o;
}

// A batch of 3 sentences of lengths 5, 3, 4 (time-major, padded with 0).
std::pair<torch::Tensor, torch::Tensor> sample_source() {
  auto src = torch::tensor({{5, 7, 9}, {6, 8, 10}, {11, 12, 13}, {14, 0, 15}, {16, 0, 0}}, torch::kLong);
  auto len = torch::tensor({5, 3, 4}, torch::kLong);
  return {src, len};
}

// One LSTM layer written out from its weights, for one sequence: x (T, in) -> (T, H).
torch::Tensor manual_lstm(torch::nn::LSTM& lstm, const torch::Tensor& x) {
  auto w_ih = lstm->named_parameters()["weight_ih_l0"], w_hh = lstm->named_parameters()["weight_hh_l0"];
  auto b = lstm->named_parameters()["bias_ih_l0"] + lstm->named_parameters()["bias_hh_l0"];
  const int64_t H = w_hh.size(1);
  auto h = torch::zeros({H}), c = torch::zeros({H});
  std::vector<torch::Tensor> out;
  for (int64_t t = 0; t < x.size(0); ++t) {
    auto gates = torch::mv(w_ih, x[t]) + torch::mv(w_hh, h) + b;
    auto i = torch::sigmoid(gates.slice(0, 0, H)), f = torch::sigmoid(gates.slice(0, H, 2 * H));
    auto g = torch::tanh(gates.slice(0, 2 * H, 3 * H)), o = torch::sigmoid(gates.slice(0, 3 * H, 4 * H));
    c = f * c + i * g;
    h = o * torch::tanh(c);
    out.push_back(h);
  }
  return torch::stack(out);
}

// The encoder of one sentence (T tokens), computed step by step from the weights: the backward direction
// is literally the reversed sentence, and residuals are added where `residual_start` says.
torch::Tensor manual_encoder(GnmtModel& m, const torch::Tensor& tokens) {
  auto& enc = m->encoder;
  auto emb = m->src_embedding->weight.index_select(0, tokens);
  auto fwd = manual_lstm(enc->bottom_fwd, emb);
  auto bwd = manual_lstm(enc->bottom_bwd, emb.flip(0)).flip(0);
  auto x = torch::cat({fwd, bwd}, 1);
  for (size_t i = 0; i < enc->layers.size(); ++i) {
    int64_t layer = static_cast<int64_t>(i) + 2;
    auto y = manual_lstm(enc->layers[i], x);
    x = (layer >= 3 && layer >= m->options.residual_start) ? y + x : y;
  }
  return x;
}

TEST(Model, Shapes) {
  torch::manual_seed(0);
  GnmtModel m(small_options(3, 3), 30);
  auto [src, len] = sample_source();
  auto tgt = torch::randint(4, 30, {6, 3}, torch::kLong);
  auto mem = m->encode(src, len);
  EXPECT_EQ(mem.values.sizes(), (std::vector<int64_t>{3, 5, 8}));
  EXPECT_EQ(mem.keys.sizes(), (std::vector<int64_t>{3, 5, 8}));
  EXPECT_EQ(m->encoder(m->src_embedding(src), len).sizes(), (std::vector<int64_t>{5, 3, 8}));
  EXPECT_EQ(m->decoder(m->tgt_embedding(tgt), mem).sizes(), (std::vector<int64_t>{6, 3, 8}));
  EXPECT_EQ(m->forward(src, len, tgt).sizes(), (std::vector<int64_t>{6, 3, 30}));
  auto state = m->decoder->initial_state(mem);
  EXPECT_EQ(m->step(tgt[0], mem, state).sizes(), (std::vector<int64_t>{3, 30}));
}

TEST(Model, EncoderMatchesManualComputationWithResiduals) {
  for (int64_t residual_start : {1, 3, 4, 9}) {
    torch::manual_seed(1);
    GnmtModel m(small_options(4, residual_start), 30);
    torch::NoGradGuard ng;
    auto [src, len] = sample_source();
    auto out = m->encoder(m->src_embedding(src), len);  // (S, B, H)
    for (int64_t b = 0; b < 3; ++b) {
      int64_t n = len[b].item<int64_t>();
      auto expected = manual_encoder(m, src.select(1, b).slice(0, 0, n));
      EXPECT_TRUE(torch::allclose(out.select(1, b).slice(0, 0, n), expected, 1e-5, 1e-6))
          << "residual_start " << residual_start << " sentence " << b;
    }
  }
}

TEST(Model, ResidualAddsInputOnlyFromResidualStart) {
  // Same weights, residual_start 3 vs a plain stack: layer 3's output differs by exactly its input.
  torch::manual_seed(2);
  GnmtModel res(small_options(3, 3), 30);
  GnmtModel plain(small_options(3, 99), 30);
  {
    torch::NoGradGuard ng;
    auto src_params = res->named_parameters();
    for (auto& p : plain->named_parameters()) p.value().copy_(src_params[p.key()]);
  }
  EXPECT_TRUE(res->encoder->residual(3));
  EXPECT_FALSE(res->encoder->residual(2));
  EXPECT_FALSE(res->decoder->residual(2));
  EXPECT_TRUE(res->decoder->residual(3));
  EXPECT_FALSE(plain->encoder->residual(3));
  torch::NoGradGuard ng;
  auto [src, len] = sample_source();
  auto emb = res->src_embedding(src);
  // Layer 2's output (input of layer 3), computed through the public pieces.
  auto rev = reverse_index(len, src.size(0));
  auto x1 = torch::cat({run_lstm(res->encoder->bottom_fwd, emb),
                        gather_time(run_lstm(res->encoder->bottom_bwd, gather_time(emb, rev)), rev)}, -1);
  auto x2 = run_lstm(res->encoder->layers[0], x1);
  auto f3 = run_lstm(res->encoder->layers[1], x2);
  EXPECT_TRUE(torch::allclose(res->encoder(emb, len), f3 + x2, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(plain->encoder(emb, len), f3, 1e-6, 1e-7));

  // Decoder: with the same attention context, layer 3 = f3 + x2 only with residuals.
  auto mem = res->encode(src, len);
  auto tgt = torch::randint(4, 30, {4, 3}, torch::kLong);
  auto temb = res->tgt_embedding(tgt);
  auto d1 = run_lstm(res->decoder->layers[0], temb);
  auto ctx = res->decoder->attention(d1.transpose(0, 1), mem).first.transpose(0, 1);
  auto d2 = run_lstm(res->decoder->layers[1], torch::cat({d1, ctx}, -1));
  auto d3 = run_lstm(res->decoder->layers[2], torch::cat({d2, ctx}, -1));
  EXPECT_TRUE(torch::allclose(res->decoder(temb, mem), d3 + d2, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(plain->decoder(temb, mem), d3, 1e-6, 1e-7));
}

TEST(Model, AttentionMatchesFormula) {
  torch::manual_seed(3);
  Attention att(4, 4, 4);
  torch::NoGradGuard ng;
  auto values = torch::randn({1, 3, 4});
  auto mask = torch::tensor({{true, true, false}});
  auto q = torch::randn({1, 1, 4});
  auto [ctx, w] = att(q, att->prepare(values, mask));
  // score_j = g * v/|v| . tanh(Wq q + Wk k_j + b), the masked position gets no weight.
  auto vn = att->g * att->v / att->v.norm();
  std::vector<double> s;
  for (int j = 0; j < 2; ++j) {
    auto h = torch::tanh(torch::mv(att->query_proj->weight, q[0][0]) + torch::mv(att->key_proj->weight, values[0][j]) +
                         att->key_proj->bias);
    s.push_back((vn * h).sum().item<double>());
  }
  double z = std::exp(s[0]) + std::exp(s[1]);
  EXPECT_NEAR(w[0][0][0].item<double>(), std::exp(s[0]) / z, 1e-6);
  EXPECT_NEAR(w[0][0][1].item<double>(), std::exp(s[1]) / z, 1e-6);
  EXPECT_EQ(w[0][0][2].item<double>(), 0.0);
  auto expected = values[0][0] * (std::exp(s[0]) / z) + values[0][1] * (std::exp(s[1]) / z);
  EXPECT_TRUE(torch::allclose(ctx[0][0], expected, 1e-5, 1e-6));
}

TEST(Model, GradientsReachEmbeddingsOfEightLayerModel) {
  torch::manual_seed(4);
  auto o = small_options(8, 3);
  o.hidden_size = o.emb_dim = 16;
  GnmtModel m(o, 30);
  auto [src, len] = sample_source();
  auto tgt_in = torch::randint(4, 30, {6, 3}, torch::kLong);
  auto tgt_out = torch::randint(4, 30, {6, 3}, torch::kLong);
  auto loss = smoothed_loss(m->forward(src, len, tgt_in), tgt_out, 0.1);
  loss.backward();
  auto g = m->src_embedding->weight.grad();
  ASSERT_TRUE(g.defined());
  EXPECT_TRUE(torch::isfinite(g).all().item<bool>());
  // Every source token used must get a gradient, through 8 encoder layers.
  for (int64_t tok : {5, 6, 11, 14, 16, 7, 8, 12, 9, 10, 13, 15})
    EXPECT_GT(g[tok].abs().sum().item<double>(), 0.0) << "token " << tok;
  for (const auto& p : m->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Model, SmoothedLossMatchesCrossEntropyWithGradients) {
  // The chunked loss against F::cross_entropy (sum, ignore_index 0, label smoothing), more rows than one
  // chunk, some of them padding.
  namespace F = torch::nn::functional;
  torch::manual_seed(9);
  for (double e : {0.0, 0.1}) {
    auto logits = (torch::randn({3, 700, 11}) * 3).requires_grad_();
    auto target = torch::randint(0, 11, {3, 700}, torch::kLong);
    target.index_put_({0, torch::indexing::Slice(0, 50)}, 0);
    auto ref_logits = logits.detach().clone().requires_grad_();
    auto ours = smoothed_loss(logits, target, e);
    auto ref = F::cross_entropy(ref_logits.reshape({-1, 11}), target.reshape({-1}),
                                F::CrossEntropyFuncOptions().ignore_index(0).label_smoothing(e).reduction(torch::kSum));
    EXPECT_NEAR(ours.item<double>(), ref.item<double>(), 1e-5 * std::abs(ref.item<double>())) << "smoothing " << e;
    (ours * 0.5).backward();
    (ref * 0.5).backward();
    EXPECT_TRUE(torch::allclose(logits.grad(), ref_logits.grad(), 1e-5, 1e-6)) << "smoothing " << e;
    EXPECT_EQ(logits.grad()[0][0].abs().sum().item<float>(), 0.f);  // padding rows get no gradient
  }
}

TEST(Model, SmoothedLossOfBf16LogitsIsComputedInFloat) {
  // Autocast leaves bf16 logits: the loss reads them without an fp32 copy, sums in fp32 and returns a bf16
  // gradient. Reference: F::cross_entropy on the same values widened to fp32.
  namespace F = torch::nn::functional;
  torch::manual_seed(10);
  const double e = 0.1;
  auto wide = torch::randn({2, 900, 37}) * 4;
  auto logits = wide.to(torch::kBFloat16).requires_grad_();
  auto target = torch::randint(0, 37, {2, 900}, torch::kLong);
  target.index_put_({1, torch::indexing::Slice(0, 30)}, 0);
  auto ref_logits = logits.detach().to(torch::kFloat).requires_grad_();
  auto ours = smoothed_loss(logits, target, e);
  auto ref = F::cross_entropy(ref_logits.reshape({-1, 37}), target.reshape({-1}),
                              F::CrossEntropyFuncOptions().ignore_index(0).label_smoothing(e).reduction(torch::kSum));
  EXPECT_EQ(ours.scalar_type(), torch::kFloat);
  EXPECT_NEAR(ours.item<double>(), ref.item<double>(), 1e-5 * std::abs(ref.item<double>()));
  (ours * 0.25).backward();
  (ref * 0.25).backward();
  ASSERT_EQ(logits.grad().scalar_type(), torch::kBFloat16);
  // bf16 keeps 8 bits of mantissa: the gradient is the fp32 one rounded once (at most 1 ulp apart from the
  // reference rounded, where the two fp32 values straddle a rounding boundary).
  EXPECT_TRUE(torch::allclose(logits.grad().to(torch::kFloat), ref_logits.grad(), 1.0 / 128, 1e-7));
  EXPECT_EQ(logits.grad()[1][0].abs().sum().item<float>(), 0.f);  // padding rows get no gradient
}

TEST(Model, BeamOneEqualsGreedy) {
  torch::manual_seed(5);
  GnmtModel m(small_options(3, 3), 30);
  m->eval();
  auto [src, len] = sample_source();
  DecodingOptions d;
  d.beam = 1;
  d.alpha = 0.6;
  d.beta = 0.2;
  d.max_len_ratio = 2.0;
  auto beam = beam_search(m, src, len, d);
  auto greedy = greedy_search(m, src, len, 2.0);
  for (size_t b = 0; b < beam.size(); ++b) {
    EXPECT_EQ(beam[b].tokens, greedy[b].tokens) << "sentence " << b;
    EXPECT_NEAR(beam[b].log_prob, greedy[b].log_prob, 1e-4);
  }
}

TEST(Model, BeamFindsAtLeastTheGreedyScore) {
  torch::manual_seed(6);
  GnmtModel m(small_options(2, 3), 30);
  m->eval();
  auto [src, len] = sample_source();
  DecodingOptions d;
  d.beam = 6;
  d.alpha = 0.0;
  d.beta = 0.0;
  auto beam = beam_search(m, src, len, d);
  auto greedy = greedy_search(m, src, len, d.max_len_ratio);
  for (size_t b = 0; b < beam.size(); ++b) EXPECT_GE(beam[b].log_prob, greedy[b].log_prob - 1e-5);
}

// Sentences that finish leave the batch (greedy and beam): each sentence of a batch decodes to what it
// decodes to alone. The end-of-sentence bias is bisected until the batch's outputs end at several
// different steps (an untrained model either always or never ends), so rows do leave the batch.
TEST(Model, FinishedSentencesLeaveTheBatchWithoutChangingTheOthers) {
  torch::manual_seed(9);
  GnmtModel m(small_options(3, 3), 30);
  m->eval();
  auto src = torch::randint(4, 30, {9, 8}, torch::kLong);
  auto len = torch::tensor({9, 8, 8, 7, 6, 5, 3, 2}, torch::kLong);
  for (int64_t b = 0; b < 8; ++b) src.index_put_({torch::indexing::Slice(len[b].item<int64_t>()), b}, 0);
  DecodingOptions d;
  d.beam = 4;
  d.max_len_ratio = 1.5;
  std::vector<Hypothesis> greedy;
  std::set<size_t> lengths;
  double lo = 0.0, hi = 1.0;  // all outputs run to their limit at lo, all end at once at hi
  for (int i = 0; i < 40 && lengths.size() < 4; ++i) {
    const double bias = (lo + hi) / 2;
    {
      torch::NoGradGuard no_grad;
      m->output_bias[Tokenizer::kEos].fill_(bias);
    }
    greedy = greedy_search(m, src, len, d.max_len_ratio);
    lengths.clear();
    bool any_at_limit = false;
    for (int64_t b = 0; b < 8; ++b) {
      lengths.insert(greedy[b].tokens.size());
      any_at_limit |= static_cast<int64_t>(greedy[b].tokens.size()) == max_output_length(len[b].item<int64_t>(), 1.5);
    }
    (any_at_limit ? lo : hi) = bias;
  }
  ASSERT_GE(lengths.size(), 4u) << "no bias found at which the outputs end at different steps";
  auto beam = beam_search(m, src, len, d);
  for (int64_t b = 0; b < 8; ++b) {
    const int64_t n = len[b].item<int64_t>();
    auto one_src = src.slice(0, 0, n).slice(1, b, b + 1), one_len = len.slice(0, b, b + 1);
    auto g = greedy_search(m, one_src, one_len, d.max_len_ratio)[0];
    auto k = beam_search(m, one_src, one_len, d)[0];
    EXPECT_EQ(greedy[b].tokens, g.tokens) << "sentence " << b;
    EXPECT_NEAR(greedy[b].log_prob, g.log_prob, 1e-4) << "sentence " << b;
    EXPECT_EQ(beam[b].tokens, k.tokens) << "sentence " << b;
    EXPECT_NEAR(beam[b].score, k.score, 1e-4) << "sentence " << b;
  }
}

TEST(Model, CheckpointReloadsToIdenticalOutputs) {
  test::TempDir dir;
  // A tiny tokenizer is needed inside the checkpoint: train one on a few lines.
  std::string text;
  for (int i = 0; i < 200; ++i) text += "the cat sat on the mat number " + std::to_string(i % 17) + "\n";
  test::write_text(dir / "t.txt", text);
  TokenizerTrainOptions to;
  to.vocab_size = 40;
  Tokenizer::train({dir / "t.txt"}, to, dir / "spm.model");
  auto tok = Tokenizer::load(dir / "spm.model");
  Config cfg;
  cfg.model = small_options(3, 3);
  torch::manual_seed(7);
  GnmtModel m(cfg.model, tok.vocab_size());
  m->eval();
  TrainingState st;
  st.step = 42;
  save_checkpoint(dir / "c.pt", m, nullptr, cfg, tok, st);
  auto ck = load_checkpoint(dir / "c.pt", torch::kCPU);
  ck.model->eval();
  EXPECT_EQ(ck.state.step, 42);
  EXPECT_EQ(ck.tokenizer.serialized(), tok.serialized());
  torch::NoGradGuard ng;
  auto [src, len] = sample_source();
  auto tgt = torch::randint(4, tok.vocab_size(), {6, 3}, torch::kLong);
  EXPECT_TRUE(torch::equal(m->forward(src, len, tgt), ck.model->forward(src, len, tgt)));
  DecodingOptions d;
  auto a = beam_search(m, src, len, d), b = beam_search(ck.model, src, len, d);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].tokens, b[i].tokens);
}

}  // namespace
}  // namespace gnmt

namespace gnmt {
namespace {

TEST(Attention, FusedScoresEqualCompositeWithGradients) {
  torch::manual_seed(8);
  for (auto dims : std::vector<std::array<int64_t, 4>>{{3, 5, 7, 16}, {2, 1, 9, 33}, {4, 6, 2, 8}}) {
    auto [B, T, S, U] = dims;
    auto q1 = torch::randn({B, T, U}, torch::requires_grad()), k1 = torch::randn({B, S, U}, torch::requires_grad());
    auto v1 = torch::randn({U}, torch::requires_grad());
    auto q2 = q1.detach().clone().requires_grad_(), k2 = k1.detach().clone().requires_grad_();
    auto v2 = v1.detach().clone().requires_grad_();
    auto w = torch::randn({B, T, S});
    w.select(2, 0).zero_();  // zero upstream gradients (masked positions) are skipped by the kernel
    auto fused = additive_scores(q1, k1, v1, true);
    auto plain = additive_scores(q2, k2, v2, false);
    EXPECT_TRUE(torch::allclose(fused, plain, 1e-5, 1e-5));
    (fused * w).sum().backward();
    (plain * w).sum().backward();
    EXPECT_TRUE(torch::allclose(q1.grad(), q2.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(k1.grad(), k2.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(v1.grad(), v2.grad(), 1e-4, 1e-4));
  }
}

}  // namespace
}  // namespace gnmt

#include "models/flops.h"

namespace gnmt {
namespace {

TEST(Flops, CountsMatchHandComputation) {
  ModelOptions m;
  m.hidden_size = m.emb_dim = 2;
  m.enc_layers = 2;
  m.dec_layers = 1;
  // One sentence, one source and one target position, vocabulary 3 (2 FLOPs per multiply-add):
  //   bidirectional layer 1: 2 x 2*4H*(E+H) = 2 x 64;  encoder layer 2: 2*4H*(2H+H) = 96;
  //   decoder layer 1: 64;  key+query projections: 2*(1+1)*H*H = 16;  scores + context: 2*2*H = 8;
  //   output: 2*H*V = 12.  Total 324.
  EXPECT_DOUBLE_EQ(forward_flops(m, 3, 1, 1, 1), 324.0);
  EXPECT_DOUBLE_EQ(training_flops(m, 3, 1, 1, 1), 972.0);
  // Linear in the batch.
  EXPECT_DOUBLE_EQ(forward_flops(m, 3, 5, 1, 1), 5 * 324.0);
}

}  // namespace
}  // namespace gnmt
