// Corpus- and sentence-level BLEU giving exactly sacreBLEU 2.6.0's numbers, text and signature
// (metrics/bleu.py), without Python. Typical use:
//
//   gnmt::BleuScorer bleu;                               // sacreBLEU defaults
//   gnmt::BleuResult r = bleu.corpus_score(hyps, {refs});
//   std::cout << r.format(1, false, bleu.signature(1));  // "BLEU|nrefs:1|...|version:2.6.0 = 34.1 ..."
//
// or, accumulating during training (stats can be summed across batches/ranks):
//
//   gnmt::BleuStats acc = bleu.empty_stats();
//   for (...) bleu.add(acc, hyp, {ref});
//   double score = bleu.compute(acc).score;
//
// Scorers hold no mutable state: const methods may be called from several threads at once.
// Corpus-level methods use up to 8 threads (std::thread::hardware_concurrency) for large inputs.
// Deliberate API differences from sacreBLEU: hypothesis/reference stream sizes must match
// (sacreBLEU's zip() silently truncates), a sentence without any reference throws (sacreBLEU
// crashes), BleuResult::counts/totals are the raw statistics (sacreBLEU adds the add-k value to
// them for n > 1), and bytes that are not valid UTF-8 are read as U+FFFD (sacreBLEU never sees
// them: Python fails to decode the file; gnmt's text_io rejects such files too).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/references.h"
#include "eval/tokenizers.h"

namespace gnmt {

struct BleuOptions {
  std::string tokenize = "13a";        // tokenizer: "13a" (default, mteval-v13a), "intl", "char" or "none"
  bool lowercase = false;              // lowercase (Python str.lower) before tokenizing; default false
  std::string smooth_method = "exp";   // smoothing: "exp" (default), "floor", "add-k" or "none"
  std::optional<double> smooth_value;  // floor/add-k value; unset = sacreBLEU default (floor 0.1, add-k 1)
  int max_ngram_order = 4;             // highest n-gram order; default 4
  bool effective_order = false;        // drop orders without hypothesis n-grams; default false (CLI -sl sets it)
};

// Sufficient statistics (sacreBLEU's [sys_len, ref_len, correct..., total...]); additive.
struct BleuStats {
  std::int64_t sys_len = 0;           // hypothesis tokens
  std::int64_t ref_len = 0;           // closest reference tokens
  std::vector<std::int64_t> counts;   // clipped matching n-grams, per order 1..max_ngram_order
  std::vector<std::int64_t> totals;   // hypothesis n-grams, per order

  BleuStats& operator+=(const BleuStats& other);  // sizes must agree (or one side be empty)
  std::vector<std::int64_t> flat() const;          // [sys_len, ref_len, counts..., totals...]
  static BleuStats from_flat(const std::vector<std::int64_t>& v);
};

struct BleuResult {
  double score = 0.0;                 // BLEU in [0, 100]
  std::vector<std::int64_t> counts;   // raw matching n-grams per order (sacreBLEU's BLEUScore.counts
                                      // additionally include the add-k increments for n > 1)
  std::vector<std::int64_t> totals;   // raw hypothesis n-grams per order (same remark)
  std::vector<double> precisions;     // smoothed n-gram precisions in percent
  double bp = 1.0;                    // brevity penalty
  std::int64_t sys_len = 0;
  std::int64_t ref_len = 0;

  double ratio() const;  // sys_len / ref_len (0 if ref_len == 0)
  // "65.3/40.1/28.3/20.0 (BP = 0.964 ratio = 0.965 hyp_len = 1234 ref_len = 1279)"
  std::string verbose() const;
  // sacreBLEU's Score.format: "BLEU = 34.12 65.3/..." or, with a signature,
  // "BLEU|nrefs:1|...|version:2.6.0 = 34.12 ..."; score_only gives "34.12"; is_json the JSON object.
  std::string format(int width = 2, bool score_only = false, std::string_view signature = {},
                     bool is_json = false) const;
};

class BleuScorer {
 public:
  // Throws std::invalid_argument for an unknown tokenizer/smoothing method or order < 1.
  explicit BleuScorer(BleuOptions options = {});

  const BleuOptions& options() const { return options_; }
  double effective_smooth_value() const { return smooth_value_; }  // value used for floor/add-k

  // sacreBLEU's _preprocess_segment: optional lowercase, rstrip, tokenize (space-separated tokens).
  std::string preprocess(std::string_view sentence) const;

  BleuStats empty_stats() const;
  // Statistics of one sentence against its references (at least one; throws otherwise).
  BleuStats segment_stats(std::string_view hyp, const std::vector<std::string>& refs) const;
  // acc += segment_stats(hyp, refs)
  void add(BleuStats& acc, std::string_view hyp, const std::vector<std::string>& refs) const;

  // Score from (accumulated) statistics, with this scorer's smoothing / effective-order settings.
  BleuResult compute(const BleuStats& stats) const;

  // refs[k][i] is reference k of hypothesis i; every stream must have hyps.size() entries.
  BleuStats corpus_stats(const std::vector<std::string>& hyps, const RefStreams& refs) const;
  // With missing references (std::nullopt); named apart so that brace-initialised calls are unambiguous.
  BleuStats corpus_stats_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const;
  // Statistics of every segment (sacreBLEU's _extract_corpus_statistics).
  std::vector<BleuStats> segment_stats_all(const std::vector<std::string>& hyps, const RefStreams& refs) const;
  BleuResult corpus_score(const std::vector<std::string>& hyps, const RefStreams& refs) const;
  BleuResult corpus_score_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const;

  // sacreBLEU's sentence_score (uses options().effective_order as set; sacreBLEU's CLI -sl sets it).
  BleuResult sentence_score(std::string_view hyp, const std::vector<std::string>& refs) const;

  // "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"; num_refs -1 prints "var";
  // short_form gives "#:1|c:mixed|e:no|tok:13a|s:exp|v:2.6.0".
  std::string signature(int num_refs, bool short_form = false) const;

 private:
  BleuStats segment_stats_views(std::string_view hyp, const std::vector<std::string_view>& refs) const;

  BleuOptions options_;
  BleuTokenizer tokenizer_;
  int smooth_kind_;  // 0 none, 1 floor, 2 add-k, 3 exp
  double smooth_value_ = 0.0;
};

// sacreBLEU's closest reference length: the smallest |hyp_len - ref_len|, ties going to
// the shorter reference. Returns -1 for no references.
std::int64_t closest_ref_len(std::int64_t hyp_len, const std::vector<std::int64_t>& ref_lens);

}  // namespace gnmt
