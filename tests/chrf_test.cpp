// chrF / chrF++ (src/eval/chrf.*). Expected numbers are computed by hand in the comments (and
// agree with sacreBLEU 2.6.0; tests/score_vs_sacrebleu.py compares against sacreBLEU itself).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "eval/chrf.h"

namespace gnmt {
namespace {

ChrfOptions opts(int char_order, int word_order = 0, int beta = 2) {
  ChrfOptions o;
  o.char_order = char_order;
  o.word_order = word_order;
  o.beta = beta;
  return o;
}

TEST(Chrf, IdenticalIs100) {
  ChrfScorer chrf;
  const ChrfResult r = chrf.corpus_score({"The cat sat.", "Ein Haus"}, {{"The cat sat.", "Ein Haus"}});
  EXPECT_DOUBLE_EQ(r.score, 100.0);
  EXPECT_EQ(r.name(), "chrF2");
  EXPECT_EQ(r.format(), "chrF2 = 100.00");
}

// hyp "ab" vs ref "abc", char order 2:
//   1-grams: hyp {a, b} (2), ref {a, b, c} (3), matches 2 -> P = 1, R = 2/3
//   2-grams: hyp {ab} (1),   ref {ab, bc} (2),   matches 1 -> P = 1, R = 1/2
//   averages: P = 1, R = 7/12
//   beta 2: F = 5 P R / (4 P + R) = (35/12) / (55/12) = 7/11  = 63.64
//   beta 1: F = 2 P R / (P + R)   = (14/12) / (19/12) = 14/19 = 73.68
TEST(Chrf, HandComputedCharNgrams) {
  const ChrfScorer c2(opts(2));
  const ChrfStats s = c2.segment_stats("ab", {"abc"});
  EXPECT_EQ(s.values, (std::vector<std::int64_t>{2, 3, 2, 1, 2, 1}));
  EXPECT_NEAR(c2.compute(s).score, 700.0 / 11, 1e-9);
  EXPECT_NEAR(ChrfScorer(opts(2, 0, 1)).sentence_score("ab", {"abc"}).score, 1400.0 / 19, 1e-9);
}

// chrF++ (word order 2): hyp "a cat." -> words [a, cat, .] (trailing punctuation split off),
// ref "a cat" -> [a, cat]. Char n-grams on "acat." vs "acat":
//   n=1: 5/4/4  n=2: 4/3/3  n=3: 3/2/2  n=4: 2/1/1  n=5: hyp has 1 but ref none -> 0/0/0  n=6: 0/0/0
//   words n=1: 3/2/2  n=2: 2/1/1 ("a cat" matches, "cat ." does not)
// Effective orders: 6; P = (4/5 + 3/4 + 2/3 + 1/2 + 2/3 + 1/2) / 6 = 0.647222, R = 1
// F = 5 P / (4 P + 1) = 0.901703 -> 90.17
TEST(Chrf, ChrfPlusPlusWordNgrams) {
  const ChrfScorer c(opts(6, 2));
  const ChrfStats s = c.segment_stats("a cat.", {"a cat"});
  EXPECT_EQ(s.values, (std::vector<std::int64_t>{5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0,
                                                  3, 2, 2, 2, 1, 1}));
  const double p = (0.8 + 0.75 + 2.0 / 3 + 0.5 + 2.0 / 3 + 0.5) / 6;
  EXPECT_NEAR(c.compute(s).score, 100 * 5 * p / (4 * p + 1), 1e-9);
  EXPECT_NEAR(c.compute(s).score, 90.17027863777089, 1e-9);
  EXPECT_EQ(c.compute(s).name(), "chrF2++");
}

// Words only: "the cat sat" vs "the cat is": unigrams 2/3, bigrams 1/2 (P = R) -> F = 7/12.
TEST(Chrf, WordOrderOnly) {
  EXPECT_NEAR(ChrfScorer(opts(0, 2)).sentence_score("the cat sat", {"the cat is"}).score, 700.0 / 12, 1e-9);
  EXPECT_THROW(ChrfScorer(opts(0, 0)), std::invalid_argument);
}

// Whitespace kept: hyp "a b" -> {a, ' ', b}, {"a ", " b"}; ref "a  b" -> {a, ' ', ' ', b},
// {"a ", "  ", " b"}: P = 1, R = (3/4 + 2/3) / 2 = 17/24 -> F = 5 R / (4 + R) = 85/113 = 75.22.
TEST(Chrf, Whitespace) {
  ChrfOptions o = opts(2);
  o.whitespace = true;
  EXPECT_NEAR(ChrfScorer(o).sentence_score("a b", {"a  b"}).score, 8500.0 / 113, 1e-9);
  // Without whitespace both become "ab": identical.
  EXPECT_DOUBLE_EQ(ChrfScorer(opts(2)).sentence_score("a b", {"a  b"}).score, 100.0);
}

TEST(Chrf, LowercaseAndEpsSmoothing) {
  ChrfOptions o;
  o.lowercase = true;
  EXPECT_DOUBLE_EQ(ChrfScorer(o).sentence_score("THE CAT", {"the cat"}).score, 100.0);
  EXPECT_LT(ChrfScorer().sentence_score("THE CAT", {"the cat"}).score, 100.0);
  // Reference values from sacreBLEU 2.6.0.
  EXPECT_NEAR(ChrfScorer().sentence_score("the cat sat on the mat", {"the cat is on the mat"}).score,
              64.5779420625287, 1e-9);
  ChrfOptions e;
  e.eps_smoothing = true;
  EXPECT_NEAR(ChrfScorer(e).sentence_score("the cat sat on the mat", {"the cat is on the mat"}).score,
              64.5771950690186, 1e-9);
}

TEST(Chrf, BestReferenceAndEmpty) {
  ChrfScorer chrf;
  const double one = chrf.sentence_score("the cat sat on the mat", {"the cat is on the mat"}).score;
  EXPECT_DOUBLE_EQ(chrf.sentence_score("the cat sat on the mat", {"a dog", "the cat is on the mat"}).score, one);
  EXPECT_DOUBLE_EQ(chrf.sentence_score("the cat sat on the mat", {"the cat is on the mat", "a dog"}).score, one);
  EXPECT_EQ(chrf.sentence_score("", {"abc"}).score, 0.0);
  EXPECT_EQ(chrf.sentence_score("abc", {""}).score, 0.0);
  EXPECT_THROW(chrf.segment_stats("x", std::vector<std::string>{}), std::invalid_argument);
}

TEST(Chrf, StatsAccumulateLikeCorpus) {
  ChrfScorer chrf(opts(6, 2));
  const std::vector<std::string> hyps = {"the cat sat on the mat", "Größe zählt.", "", "中文文本"};
  const std::vector<std::string> refs = {"the cat is on the mat", "Grösse zählt", "x", "中文的文本"};
  ChrfStats acc = chrf.empty_stats();
  for (std::size_t i = 0; i < hyps.size(); ++i) chrf.add(acc, hyps[i], {refs[i]});
  EXPECT_EQ(acc.values, chrf.corpus_stats(hyps, {refs}).values);
  EXPECT_EQ(chrf.compute(acc).score, chrf.corpus_score(hyps, {refs}).score);
}

TEST(Chrf, SignatureAndFormat) {
  EXPECT_EQ(ChrfScorer().signature(1), "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0");
  EXPECT_EQ(ChrfScorer().signature(2, true), "#:2|c:mixed|e:yes|nc:6|nw:0|s:no|v:2.6.0");
  ChrfOptions o = opts(4, 2, 3);
  o.lowercase = true;
  o.whitespace = true;
  o.eps_smoothing = true;
  ChrfScorer c(o);
  EXPECT_EQ(c.signature(-1), "nrefs:var|case:lc|eff:no|nc:4|nw:2|space:yes|version:2.6.0");
  // eps smoothing averages over all 4 + 2 orders, so "abc" (3 char orders, 1 word order) scores 4/6
  EXPECT_NEAR(c.sentence_score("abc", {"abc"}).score, 400.0 / 6, 1e-9);
  const ChrfResult r = c.sentence_score("abcd efgh", {"abcd efgh"});
  EXPECT_EQ(r.name(), "chrF3++");
  EXPECT_EQ(r.format(1, false, "nrefs:1"), "chrF3++|nrefs:1 = 100.0");
  EXPECT_EQ(r.format(1, false, "nrefs:1|case:lc", true),
            "{\n \"name\": \"chrF3++\",\n \"score\": 100.0,\n \"signature\": \"nrefs:1|case:lc\",\n"
            " \"nrefs\": \"1\",\n \"case\": \"lc\"\n}");
}

}  // namespace
}  // namespace gnmt
