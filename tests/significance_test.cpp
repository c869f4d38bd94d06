// Paired bootstrap resampling (eval/significance.h). Expected values come from NumPy 2.4 and
// sacreBLEU 2.6.0 (tests/score_vs_sacrebleu.py compares whole CLI outputs).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/score_command.h"
#include "eval/significance.h"

namespace gnmt {
namespace {

using numpy_compat::Pcg64;

TEST(Significance, Pcg64SeedingMatchesNumpy) {
  // np.random.default_rng(12345).bit_generator.state
  Pcg64 g(numpy_compat::int_to_uint32_words(12345));
  const numpy_compat::u128 state = g.state(), inc = g.inc();
  EXPECT_EQ(static_cast<std::uint64_t>(state >> 64), 0x1905e0335aae9634ULL);
  EXPECT_EQ(static_cast<std::uint64_t>(state), 0x9199b0d09775add5ULL);
  EXPECT_EQ(static_cast<std::uint64_t>(inc >> 64), 0xc9c7353e6e2b1f28ULL);
  EXPECT_EQ(static_cast<std::uint64_t>(inc), 0x7d761f2d4027fae7ULL);
  // [hex(g.bit_generator.random_raw()) for _ in range(2)]
  EXPECT_EQ(g.next64(), 0x3a32b18db2ffc19dULL);
  EXPECT_EQ(g.next64(), 0x51171315c9e4c4deULL);
}

TEST(Significance, ChoiceMatchesNumpy) {
  auto draw = [](std::uint64_t seed, std::uint64_t high, int n) {
    Pcg64 g(numpy_compat::int_to_uint32_words(seed));
    std::vector<std::uint32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(numpy_compat::bounded_uint32(g, high));
    return v;
  };
  // np.random.default_rng(12345).choice(50, size=10)
  EXPECT_EQ(draw(12345, 50, 10), (std::vector<std::uint32_t>{34, 11, 39, 15, 10, 39, 32, 33, 49, 19}));
  // np.random.default_rng(0).choice(3, size=10)
  EXPECT_EQ(draw(0, 3, 10), (std::vector<std::uint32_t>{2, 1, 1, 0, 0, 0, 0, 0, 0, 2}));
  // np.random.default_rng(123456789012345).choice(3000000000, size=5)  (two-word entropy)
  EXPECT_EQ(draw(123456789012345ULL, 3000000000ULL, 5),
            (std::vector<std::uint32_t>{2159960549u, 133326281u, 1065498955u, 1416307256u, 1847576042u}));
  EXPECT_EQ(draw(1, 1, 3), (std::vector<std::uint32_t>{0, 0, 0}));
}

TEST(Significance, PairwiseSumIsNumpys) {
  // Sequential below 8 elements, 8 accumulators up to 128, halves (multiple of 8) above.
  std::vector<float> a(300);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 1.0f + static_cast<float>(i) * 1e-7f;
  float seq = -0.0f;
  for (std::size_t i = 0; i < 5; ++i) seq += a[i];
  EXPECT_EQ(numpy_compat::pairwise_sum(a.data(), 5), seq);
  const double d[3] = {0.1, 0.2, 0.3};
  EXPECT_EQ(numpy_compat::pairwise_sum(d, 3), (0.1 + 0.2) + 0.3);
  EXPECT_NEAR(numpy_compat::pairwise_sum(a.data(), a.size()), 300.0 + 1e-7 * 299 * 150, 1e-3);
}

TEST(Significance, Float32ScoresFollowNumpy) {
  BleuScorer bleu;
  // Perfect match: float32 precisions of exactly 100.
  const float st[10] = {4, 4, 4, 3, 2, 1, 4, 3, 2, 1};
  const NpValue v = bleu_score_from_f32_stats(bleu, st);
  EXPECT_FALSE(v.is_f32);
  EXPECT_DOUBLE_EQ(v.value, 100.0);
  const float zero[10] = {4, 4, 0, 0, 0, 0, 4, 3, 2, 1};
  EXPECT_EQ(bleu_score_from_f32_stats(bleu, zero).value, 0.0);

  ChrfScorer chrf;
  std::vector<float> cs(18, 0.0f);
  for (int o = 0; o < 6; ++o) {
    cs[3 * o] = 10.0f - static_cast<float>(o);
    cs[3 * o + 1] = 12.0f - static_cast<float>(o);
    cs[3 * o + 2] = 7.0f - static_cast<float>(o);
  }
  const NpValue c = chrf_score_from_f32_stats(chrf, cs.data());
  EXPECT_TRUE(c.is_f32);  // chrF of float32 statistics is a NumPy float32
  ChrfStats is;
  for (float x : cs) is.values.push_back(static_cast<std::int64_t>(x));
  EXPECT_NEAR(c.value, chrf.f_score(is), 1e-4);
  EXPECT_EQ(static_cast<double>(static_cast<float>(c.value)), c.value);
  std::vector<float> none(18, 0.0f);
  EXPECT_FALSE(chrf_score_from_f32_stats(chrf, none.data()).is_f32);  // Python 0.0
}

TEST(Significance, SeedFromEnvironment) {
  ::unsetenv("SACREBLEU_SEED");
  EXPECT_EQ(sacrebleu_seed_from_env(), std::optional<std::uint64_t>(12345));
  ::setenv("SACREBLEU_SEED", "None", 1);
  EXPECT_EQ(sacrebleu_seed_from_env(), std::nullopt);
  ::setenv("SACREBLEU_SEED", " 1_000 ", 1);
  EXPECT_EQ(sacrebleu_seed_from_env(), std::optional<std::uint64_t>(1000));
  ::setenv("SACREBLEU_SEED", "-3", 1);
  EXPECT_THROW(sacrebleu_seed_from_env(), std::invalid_argument);
  ::unsetenv("SACREBLEU_SEED");
}

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string p = ::testing::TempDir() + "gnmt_sig_" + name;
  std::ofstream(p) << text;
  return p;
}

TEST(Significance, PairedBsCommandMatchesSacrebleu) {
  ::unsetenv("SACREBLEU_SEED");
  const std::string ref = temp_file("ref", "the cat sat on the mat\na dog ran over the lazy fox\nit was not a good idea\n"
                                           "we are here to stay\nthis is the end\n");
  const std::string a = temp_file("a", "the cat sat on mat\na dog ran over lazy fox\nit was a good idea\n"
                                       "we are here\nthis is end\n");
  const std::string b = temp_file("b", "the cat sat on the mat\na dog ran over the fox\nit was not good idea\n"
                                       "we are here to stay\nthis is the end\n");
  ScoreArgs args;
  args.refs = {ref};
  args.inputs = {a, b};
  args.paired_bs = true;
  args.paired_bs_n = 100;
  args.metrics = {"bleu", "chrf"};
  args.format = "json";
  std::ostringstream out, err;
  ASSERT_EQ(run_score(args, out, err), 0) << err.str();
  // NO_COLOR=1 sacrebleu REF -i A B -m bleu --paired-bs --paired-bs-n 100 (BLEU part; chrF via
  // json.dumps(default=float) since sacreBLEU's own JSON output crashes on float32).
  const std::string o = out.str();
  EXPECT_NE(o.find("\"system\": \"Baseline: " + a + "\""), std::string::npos) << o;
  EXPECT_NE(o.find("\"p_value\": null"), std::string::npos) << o;
  EXPECT_NE(o.find("\"chrF2\": {"), std::string::npos) << o;

  args.format = "text";
  out.str("");
  ASSERT_EQ(run_score(args, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("BLEU (μ ± 95% CI)"), std::string::npos) << out.str();
  // Cells of `NO_COLOR=1 sacrebleu REF -i A B -m bleu chrf --paired-bs --paired-bs-n 100 -f text`.
  for (const char* cell : {"43.8 (42.7 ± 12.2)", "79.2 (80.0 ± 22.7)", "(p = 0.0297)*", "62.8 (62.5 ± 7.6)",
                           "86.9 (87.3 ± 12.2)", "(p = 0.0099)*"}) {
    EXPECT_NE(out.str().find(cell), std::string::npos) << cell << "\n" << out.str();
  }
  EXPECT_NE(out.str().find("Paired bootstrap resampling test with 100 resampling trials"), std::string::npos);
  EXPECT_NE(out.str().find("nrefs:1|bs:100|seed:12345|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"),
            std::string::npos)
      << out.str();

  args.inputs = {a};
  out.str("");
  err.str("");
  EXPECT_EQ(run_score(args, out, err), 1);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace gnmt
