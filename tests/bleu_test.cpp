// BLEU (src/eval/bleu.*), its tokenizers, the Unicode helpers, text_io and the `score` command.
// Expected numbers are computed by hand in the comments (and agree with sacreBLEU 2.6.0;
// tests/score_vs_sacrebleu.py does the exhaustive comparison against sacreBLEU itself).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/score_command.h"
#include "eval/bleu.h"
#include "eval/ngram_index.h"
#include "eval/score_format.h"
#include "eval/text_io.h"
#include "eval/tokenizers.h"
#include "eval/unicode.h"

namespace gnmt {
namespace {

std::string temp_path(const std::string& name) {
  return (testing::TempDir().empty() ? std::string("/tmp/") : testing::TempDir()) + "gnmt_bleu_test_" + name;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

// ---------------------------------------------------------------------------------------------
// BLEU numbers

TEST(Bleu, IdenticalIs100) {
  BleuScorer bleu;
  const BleuResult r = bleu.corpus_score({"The cat sat on the mat.", "Hello, world!"},
                                         {{"The cat sat on the mat.", "Hello, world!"}});
  EXPECT_DOUBLE_EQ(r.score, 100.0);
  EXPECT_DOUBLE_EQ(r.bp, 1.0);
  EXPECT_EQ(r.sys_len, 11);  // "The cat sat on the mat ." (7) + "Hello , world !" (4)
  EXPECT_EQ(r.ref_len, 11);
}

// hyp "the cat sat on the mat" vs ref "the cat is on the mat" (6 tokens each):
//   1-grams: the x2 (ref has 2), cat, sat (no), on, mat              -> 5/6
//   2-grams: the cat, cat sat(no), sat on(no), on the, the mat        -> 3/5
//   3-grams: the cat sat(no), cat sat on(no), sat on the(no), on the mat -> 1/4
//   4-grams: the cat sat on, cat sat on the, sat on the mat: none     -> 0/3
// exp smoothing: p4 = 100 / (2 * 3) = 16.67;  BLEU = (83.33 * 60 * 25 * 16.67)^(1/4) = 37.99
TEST(Bleu, KnownCountsAndExpSmoothing) {
  BleuScorer bleu;
  const BleuResult r = bleu.corpus_score({"the cat sat on the mat"}, {{"the cat is on the mat"}});
  EXPECT_EQ(r.counts, (std::vector<std::int64_t>{5, 3, 1, 0}));
  EXPECT_EQ(r.totals, (std::vector<std::int64_t>{6, 5, 4, 3}));
  ASSERT_EQ(r.precisions.size(), 4u);
  EXPECT_NEAR(r.precisions[0], 500.0 / 6, 1e-12);
  EXPECT_NEAR(r.precisions[1], 60.0, 1e-12);
  EXPECT_NEAR(r.precisions[2], 25.0, 1e-12);
  EXPECT_NEAR(r.precisions[3], 100.0 / 6, 1e-12);
  EXPECT_NEAR(r.score, 37.99178428257963, 1e-9);
  EXPECT_EQ(r.format(), "BLEU = 37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
}

// Same sentence, other smoothing methods:
//   floor 0.1: p4 = 100 * 0.1 / 3 = 3.33                         -> (83.33*60*25*3.33)^(1/4) = 25.41
//   add-k 1:   p2 = 4/6, p3 = 2/5, p4 = 1/4 (n > 1 only)          -> (83.33*66.67*40*25)^(1/4) = 48.55
//   none:      p4 = 0 -> log floored at -9999999999               -> 0
TEST(Bleu, SmoothingMethods) {
  auto score = [](const std::string& method) {
    BleuOptions o;
    o.smooth_method = method;
    return BleuScorer(o).corpus_score({"the cat sat on the mat"}, {{"the cat is on the mat"}});
  };
  EXPECT_NEAR(score("floor").score, 25.40663740773073, 1e-9);
  EXPECT_NEAR(score("floor").precisions[3], 10.0 / 3, 1e-12);
  EXPECT_NEAR(score("add-k").score, 48.54917717073236, 1e-9);
  EXPECT_NEAR(score("add-k").precisions[1], 400.0 / 6, 1e-12);
  EXPECT_EQ(score("add-k").counts[1], 3);  // raw counts, without the +k
  EXPECT_EQ(score("none").score, 0.0);
  EXPECT_THROW(BleuScorer(BleuOptions{"13a", false, "bogus", {}, 4, false}), std::invalid_argument);
  EXPECT_THROW(BleuScorer(BleuOptions{"zh", false, "exp", {}, 4, false}), std::invalid_argument);
}

// hyp "the cat" (2 tokens) vs a 6-token reference: BP = exp(1 - 6/2) = exp(-2) = 0.1353.
// No 3/4-grams in the hypothesis: corpus BLEU is 0; with effective order only p1 = p2 = 100
// count, so sentence BLEU = BP * 100 = 13.53.
TEST(Bleu, BrevityPenaltyAndEffectiveOrder) {
  BleuScorer bleu;
  const BleuResult r = bleu.corpus_score({"the cat"}, {{"the cat is on the mat"}});
  EXPECT_NEAR(r.bp, std::exp(-2.0), 1e-15);
  EXPECT_EQ(r.score, 0.0);
  EXPECT_EQ(r.format(2), "BLEU = 0.00 100.0/100.0/0.0/0.0 (BP = 0.135 ratio = 0.333 hyp_len = 2 ref_len = 6)");

  BleuOptions o;
  o.effective_order = true;
  const BleuResult s = BleuScorer(o).sentence_score("the cat", {"the cat is on the mat"});
  EXPECT_NEAR(s.score, 100.0 * std::exp(-2.0), 1e-9);
}

TEST(Bleu, EmptyHypothesisAndReference) {
  BleuScorer bleu;
  const BleuResult r = bleu.corpus_score({""}, {{"a b c"}});
  EXPECT_EQ(r.score, 0.0);
  EXPECT_EQ(r.bp, 0.0);  // sys_len 0 < ref_len
  const BleuResult e = bleu.corpus_score({"", ""}, {{"", ""}});
  EXPECT_EQ(e.score, 0.0);
  EXPECT_EQ(e.bp, 1.0);
  EXPECT_EQ(e.format(1), "BLEU = 0.0 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 0 ref_len = 0)");
}

TEST(Bleu, ClosestReferenceLengthTieGoesToShorter) {
  EXPECT_EQ(closest_ref_len(6, {4, 8}), 4);
  EXPECT_EQ(closest_ref_len(6, {8, 4}), 4);
  EXPECT_EQ(closest_ref_len(6, {7, 3}), 7);
  EXPECT_EQ(closest_ref_len(5, {5, 9}), 5);
  BleuScorer bleu;
  EXPECT_EQ(bleu.segment_stats("a b c d e f", {"a b c d e f g h", "a b c d"}).ref_len, 4);
}

// Multiple references: clipping uses the maximum count over references.
// hyp "the the the" vs refs "the cat" (the x1) and "the the dog" (the x2): 1-gram matches = 2.
TEST(Bleu, MultiReferenceClipping) {
  BleuScorer bleu;
  const BleuStats s = bleu.segment_stats("the the the", {"the cat", "the the dog"});
  EXPECT_EQ(s.counts[0], 2);
  EXPECT_EQ(s.counts[1], 1);  // "the the"
  EXPECT_EQ(s.totals[0], 3);
  EXPECT_EQ(s.ref_len, 3);    // |3-2| = 1 vs |3-3| = 0
  EXPECT_THROW(bleu.segment_stats("x", std::vector<std::string>{}), std::invalid_argument);
}

TEST(Bleu, StatsAccumulateLikeCorpus) {
  BleuScorer bleu;
  const std::vector<std::string> hyps = {"the cat sat on the mat", "a quick brown fox", "", "jumps over it"};
  const std::vector<std::string> refs = {"the cat is on the mat", "the quick brown fox", "nothing", "jumps over"};
  BleuStats acc = bleu.empty_stats();
  for (std::size_t i = 0; i < hyps.size(); ++i) bleu.add(acc, hyps[i], {refs[i]});
  const BleuResult a = bleu.compute(acc);
  const BleuResult b = bleu.corpus_score(hyps, {refs});
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(acc.flat(), bleu.corpus_stats(hyps, {refs}).flat());
  EXPECT_EQ(BleuStats::from_flat(acc.flat()).flat(), acc.flat());
  BleuStats empty;  // default-constructed stats can absorb others
  empty += acc;
  EXPECT_EQ(empty.flat(), acc.flat());
}

TEST(Bleu, MissingReferencesAndNumRefs) {
  BleuScorer bleu;
  OptionalRefStreams refs = {{std::string("a b c d"), std::string("e f g h")}, {std::nullopt, std::string("x")}};
  const BleuResult r = bleu.corpus_score_optional({"a b c d", "e f g h"}, refs);
  EXPECT_DOUBLE_EQ(r.score, 100.0);
  EXPECT_EQ(num_refs_of(refs), -1);
  EXPECT_EQ(bleu.signature(num_refs_of(refs)), "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
  EXPECT_EQ(num_refs_of(RefStreams{{"a"}, {"b"}}), 2);
  EXPECT_THROW(bleu.corpus_score({"a", "b"}, RefStreams{{"a"}}), std::invalid_argument);
}

TEST(Bleu, LowercaseIncludingFinalSigma) {
  BleuOptions o;
  o.lowercase = true;
  BleuScorer bleu(o);
  // Python: "ΟΔΟΣ ΑΣ'Β".lower() == "οδος ασ'β" (final sigma only at a word end).
  EXPECT_DOUBLE_EQ(bleu.corpus_score({"ΟΔΟΣ ΑΣ'Β THE CAT SAT"}, {{"οδος ασ'β the cat sat"}}).score, 100.0);
  EXPECT_EQ(bleu.preprocess("İSTANBUL Straße  "), "i\xCC\x87stanbul straße");
}

TEST(Bleu, Signatures) {
  EXPECT_EQ(BleuScorer().signature(1), "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
  EXPECT_EQ(BleuScorer().signature(1, true), "#:1|c:mixed|e:no|tok:13a|s:exp|v:2.6.0");
  BleuOptions o;
  o.tokenize = "intl";
  o.lowercase = true;
  o.smooth_method = "floor";
  o.effective_order = true;
  EXPECT_EQ(BleuScorer(o).signature(3), "nrefs:3|case:lc|eff:yes|tok:intl|smooth:floor[0.10]|version:2.6.0");
  o.smooth_method = "add-k";
  o.smooth_value = 0.5;
  EXPECT_EQ(BleuScorer(o).signature(2), "nrefs:2|case:lc|eff:yes|tok:intl|smooth:add-k[0.50]|version:2.6.0");
}

TEST(Bleu, FormatTextAndJson) {
  BleuScorer bleu;
  const BleuResult r = bleu.corpus_score({"the cat sat on the mat"}, {{"the cat is on the mat"}});
  const std::string sig = bleu.signature(1);
  EXPECT_EQ(r.format(1, false, sig),
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 38.0 83.3/60.0/25.0/16.7 "
            "(BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
  EXPECT_EQ(r.format(4, true), "37.9918");
  EXPECT_EQ(r.format(1, false, sig, true),
            "{\n"
            " \"name\": \"BLEU\",\n"
            " \"score\": 38.0,\n"
            " \"signature\": \"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0\",\n"
            " \"verbose_score\": \"83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)\",\n"
            " \"nrefs\": \"1\",\n"
            " \"case\": \"mixed\",\n"
            " \"eff\": \"no\",\n"
            " \"tok\": \"13a\",\n"
            " \"smooth\": \"exp\",\n"
            " \"version\": \"2.6.0\"\n"
            "}");
}

TEST(Bleu, MaxNgramOrder) {
  BleuOptions o;
  o.max_ngram_order = 2;
  // p1 = 5/6, p2 = 3/5 -> sqrt(83.33 * 60) = 70.71
  const BleuResult r = BleuScorer(o).corpus_score({"the cat sat on the mat"}, {{"the cat is on the mat"}});
  EXPECT_NEAR(r.score, std::sqrt(500.0 / 6 * 60.0), 1e-9);
  EXPECT_EQ(r.precisions.size(), 2u);
  o.max_ngram_order = 40;  // beyond the packed-key fast path
  const std::string longs = "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p";
  EXPECT_NEAR(BleuScorer(o).corpus_score({longs}, {{longs}}).score, 100.0, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// The n-gram engine: every order's clipped matches against a brute-force count

// sum over n-grams g of min(count of g in a, count of g in b)
std::uint64_t brute_clipped(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b, int n) {
  std::map<std::vector<std::uint32_t>, std::int64_t> ca, cb;
  const std::size_t nn = static_cast<std::size_t>(n);
  for (std::size_t i = 0; i + nn <= a.size(); ++i) ++ca[std::vector<std::uint32_t>(a.begin() + i, a.begin() + i + nn)];
  for (std::size_t i = 0; i + nn <= b.size(); ++i) ++cb[std::vector<std::uint32_t>(b.begin() + i, b.begin() + i + nn)];
  std::uint64_t m = 0;
  for (const auto& [g, c] : ca) {
    auto it = cb.find(g);
    if (it != cb.end()) m += static_cast<std::uint64_t>(std::min(c, it->second));
  }
  return m;
}

TEST(NgramIndex, AllOrdersMatchBruteForce) {
  std::mt19937 rng(11);
  detail::NgramIndex ia, ib;
  int checked = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const int max_order = 1 + static_cast<int>(rng() % 8);
    const std::uint32_t alphabet = 1 + rng() % (iter % 3 == 0 ? 3 : 60);  // tiny alphabets: long equal runs
    const int bits = detail::bits_for(alphabet);
    auto make = [&](std::size_t len) {
      std::vector<std::uint32_t> v(len);
      for (auto& x : v) x = 1 + rng() % alphabet;
      if (iter % 2) std::sort(v.begin(), v.end());  // the nearly-sorted hint path
      return v;
    };
    const std::vector<std::uint32_t> a = make(rng() % (iter % 10 == 0 ? 400 : 40));
    const std::vector<std::uint32_t> b = make(rng() % (iter % 10 == 0 ? 400 : 40));
    ia.build(a.data(), a.size(), max_order, bits, iter % 2 == 1);
    ib.build(b.data(), b.size(), max_order, bits, iter % 4 == 1);
    if (!ia.narrow()) continue;
    std::uint64_t all[8] = {};
    ia.clipped_matches_narrow_all(ib, all);
    for (int n = 1; n <= max_order; ++n) {
      const std::uint64_t want = brute_clipped(a, b, n);
      ASSERT_EQ(all[n - 1], want) << "iter " << iter << " n " << n;
      ASSERT_EQ(ia.clipped_matches_narrow(n, ib), want) << "iter " << iter << " n " << n;
      ++checked;
    }
  }
  EXPECT_GT(checked, 5000);
}

// ---------------------------------------------------------------------------------------------
// Tokenizers

TEST(Tokenizer13a, PunctuationAndNumbers) {
  EXPECT_EQ(tokenize_13a("Hello, world!"), "Hello , world !");
  EXPECT_EQ(tokenize_13a("3.5 and 1,000"), "3.5 and 1,000");          // separators between digits stay
  EXPECT_EQ(tokenize_13a("a.b U.S.A."), "a . b U . S . A .");
  EXPECT_EQ(tokenize_13a("2-3 x-ray 9-"), "2 - 3 x-ray 9 -");          // dash split only after a digit
  EXPECT_EQ(tokenize_13a("$5.00 (50%)"), "$ 5.00 ( 50 % )");
  EXPECT_EQ(tokenize_13a("the year 1990."), "the year 1990 .");
  EXPECT_EQ(tokenize_13a("it's"), "it's");                              // apostrophe is not split
  EXPECT_EQ(tokenize_13a("&amp;lt; &quot;x&quot;"), "< \" x \"");     // sequential unescaping
  EXPECT_EQ(tokenize_13a("a<skipped>b"), "ab");
  EXPECT_EQ(tokenize_13a("  spaced\u00a0out\t "), "spaced out");       // Python str.split() whitespace
}

// The 13a tokens found word by word (tokenize_13a_tokens) are exactly the string pipeline's.
TEST(Tokenizer13a, TokensWithoutTheStringAgreeWithThePipeline) {
  std::string storage;
  std::vector<std::string_view> toks;
  const std::string line = "Hello, world! 3.5-4 x-ray U.S. (\"q\") it's";
  tokenize_13a_tokens(line, storage, toks);
  const std::vector<std::string_view> want{"Hello", ",", "world", "!", "3.5", "-", "4", "x-ray", "U", ".", "S",
                                           ".",     "(", "\"",   "q", "\"", ")", "it's"};
  EXPECT_EQ(toks, want);
  for (const auto& t : toks) {  // views into the line itself: no replacement was needed
    EXPECT_TRUE(t.data() >= line.data() && t.data() + t.size() <= line.data() + line.size()) << t;
  }
  // Random lines over pieces that exercise every rule (and the replacements, which take the
  // string path), compared with ' '-splitting tokenize_13a's string.
  const std::vector<std::string> pieces = {"a", "Zq", "7", "0", ".", ",", "-", "--", "'", "!", "(", "$", "/", "~",
                                           "`", "@", " ", "  ", "\t", "\u00a0", "\u2003", "\u3000", "\u0085",
                                           "\u00e9", "\u4e2d", "\u2014", "&amp;", "&quot;", "&", "<skipped>", "<",
                                           "\n", "-\n", "\r", "\x1c", "..", ".,", "1.", ",5"};
  std::mt19937 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) s += pieces[rng() % pieces.size()];
    const std::string str = tokenize_13a(s);
    std::vector<std::string_view> expect;
    split_single_spaces(str, expect);
    toks.clear();
    tokenize_13a_tokens(s, storage, toks);
    ASSERT_EQ(toks, expect) << "line: '" << s << "'";
  }
}

TEST(TokenizerIntl, UnicodePunctuationSymbolsDigits) {
  EXPECT_EQ(tokenize_intl("“Hello”, she said."), "“ Hello ” , she said .");
  EXPECT_EQ(tokenize_intl("3.5 and 1,000."), "3.5 and 1,000.");  // mteval-v14 quirk: final "1,000." kept
  EXPECT_EQ(tokenize_intl("€5 + 3×4"), "€ 5 + 3 × 4");
  EXPECT_EQ(tokenize_intl("a—b"), "a — b");
  EXPECT_EQ(tokenize_intl("Hello!!"), "Hello ! !");
  EXPECT_EQ(tokenize_intl("١٫٥"), "١٫٥");  // Arabic decimal separator between Arabic-Indic digits
}

TEST(TokenizerChar, EveryCodePoint) {
  EXPECT_EQ(tokenize_char("ab 中"), "a b   中");
  BleuOptions o;
  o.tokenize = "char";
  EXPECT_EQ(BleuScorer(o).segment_stats("ab 中", {"ab"}).sys_len, 3);
}

// ---------------------------------------------------------------------------------------------
// Unicode helpers

TEST(Unicode, WhitespaceLowerAndClasses) {
  EXPECT_TRUE(unicode::is_space(0x85));
  EXPECT_TRUE(unicode::is_space(0x3000));
  EXPECT_TRUE(unicode::is_space(0x1C));
  EXPECT_FALSE(unicode::is_space(0x200B));  // zero width space is Cf, not whitespace
  EXPECT_EQ(unicode::rstrip("ab \u3000\t"), "ab");
  EXPECT_EQ(unicode::split_whitespace("a\u2009b\u00a0 c").size(), 3u);
  EXPECT_EQ(unicode::to_lower_utf8("ΣΑΣ Σ ΑΣ."), "σας σ ας.");
  EXPECT_EQ(unicode::to_lower_utf8("ÀÉÎ ǅ Ω"), "àéî ǆ ω");
  EXPECT_TRUE(unicode::is_punctuation(U'“'));
  EXPECT_TRUE(unicode::is_symbol(U'€'));
  EXPECT_TRUE(unicode::is_number(U'٣'));
  EXPECT_TRUE(unicode::is_number(U'½'));
  EXPECT_FALSE(unicode::is_number(U'a'));
}

TEST(Unicode, Utf8Validation) {
  EXPECT_EQ(unicode::find_invalid_utf8("héllo 中文 😀"), std::string_view::npos);
  EXPECT_EQ(unicode::find_invalid_utf8("ab\xC3\x28"), 2u);
  EXPECT_EQ(unicode::find_invalid_utf8("\xC0\xAF"), 0u);          // overlong
  EXPECT_EQ(unicode::find_invalid_utf8("x\xED\xA0\x80"), 1u);     // surrogate
  EXPECT_EQ(unicode::find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(unicode::find_invalid_utf8("\xE4\xB8"), 0u);          // truncated
}

TEST(ScoreFormat, PythonFloatRepr) {
  EXPECT_EQ(python_float_repr(38.1), "38.1");
  EXPECT_EQ(python_float_repr(100.0), "100.0");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(0.00001), "1e-05");
  EXPECT_EQ(python_float_repr(0.00001234), "1.234e-05");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_fixed(0.125, 2), "0.12");  // round-half-even on the exact binary value, like Python
  EXPECT_EQ(format_fixed(2.675, 2), "2.67");
}

// ---------------------------------------------------------------------------------------------
// text_io

TEST(TextIo, LinesBomCrlfAndFinalNewline) {
  EXPECT_EQ(split_text_lines("\xEF\xBB\xBF" "a\r\nb\n", "f"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_text_lines("a\nb", "f"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_text_lines("a\n\nb\n", "f"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split_text_lines("\n", "f"), (std::vector<std::string>{""}));
  EXPECT_TRUE(split_text_lines("", "f").empty());
  EXPECT_EQ(split_text_lines("a\rb\r\n", "f"), (std::vector<std::string>{"a\rb"}));  // only a trailing \r
}

TEST(TextIo, InvalidUtf8NamesFileAndLine) {
  const std::string path = temp_path("bad.txt");
  write_file(path, "ok\nfine\nbad \xFF here\n");
  try {
    read_text_lines(path);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":3: invalid UTF-8", 0), 0u) << e.what();
  }
  EXPECT_THROW(read_text_lines(temp_path("does_not_exist.txt")), std::runtime_error);
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------------------------
// `gnmt score`

TEST(ScoreCommand, NormalizesSacreBleuShortFlags) {
  const char* argv[] = {"gnmt", "-lc", "score", "ref", "-tok", "intl", "-lc", "-sl", "-nr=2", "-cw", "2", "--", "-sv"};
  NormalizedArgv n = normalize_sacrebleu_short_flags(13, argv);
  const std::vector<std::string> want = {"gnmt", "-lc", "score", "ref", "--tokenize", "intl", "--lowercase",
                                         "--sentence-level", "--num-refs=2", "--chrf-word-order", "2", "--", "-sv"};
  EXPECT_EQ(n.args(), want);
  EXPECT_EQ(n.argc(), 13);
  EXPECT_STREQ(n.argv()[4], "--tokenize");
  EXPECT_EQ(n.argv()[13], nullptr);
}

TEST(ScoreCommand, TextJsonAndErrors) {
  const std::string ref = temp_path("ref.txt"), hyp = temp_path("hyp.txt"), short_hyp = temp_path("short.txt");
  write_file(ref, "The cat sat on the mat.\nHello, world 3.5!\n");
  write_file(hyp, "The cat sat on a mat.\nHello world 3.5\n");
  write_file(short_hyp, "x\n");

  ScoreArgs a;
  a.refs = {ref};
  a.input = hyp;
  a.metrics = {"chrf", "bleu"};
  a.format = "text";
  std::ostringstream out, err;
  EXPECT_EQ(run_score(a, out, err), 0) << err.str();
  // Verified against `sacrebleu REF -i HYP -m chrf bleu -f text` (aligned on '=').
  EXPECT_EQ(out.str(),
            "  BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 38.1 90.0/62.5/33.3/25.0 "
            "(BP = 0.819 ratio = 0.833 hyp_len = 10 ref_len = 12)\n"
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0 = 64.8\n");

  a.metrics = {"bleu"};
  a.format = "json";
  a.score_only = true;
  out.str("");
  EXPECT_EQ(run_score(a, out, err), 0);
  EXPECT_EQ(out.str(), "38.1\n");

  a.input = short_hyp;
  out.str("");
  err.str("");
  EXPECT_NE(run_score(a, out, err), 0);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find(short_hyp + " has 1 lines"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find(ref + " has 2 lines"), std::string::npos) << err.str();
  std::remove(ref.c_str());
  std::remove(hyp.c_str());
  std::remove(short_hyp.c_str());
}

}  // namespace
}  // namespace gnmt
