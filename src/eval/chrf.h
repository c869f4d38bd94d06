// chrF / chrF++ (corpus and sentence level) giving exactly sacreBLEU 2.6.0's numbers, text and
// signature (metrics/chrf.py), without Python.
//
//   gnmt::ChrfScorer chrf;                                  // chrF2, sacreBLEU defaults
//   gnmt::ChrfResult r = chrf.corpus_score(hyps, {refs});
//   std::cout << r.format(1, false, chrf.signature(1));     // "chrF2|nrefs:1|...|version:2.6.0 = 55.2"
//
// word_order = 2 (CLI -cw 2) gives chrF++. Scorers hold no mutable state (const methods are
// thread-safe); API differences from sacreBLEU are as listed in bleu.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eval/references.h"

namespace gnmt {

struct ChrfOptions {
  int char_order = 6;          // character n-gram order; default 6
  int word_order = 0;          // word n-gram order; default 0 (2 = chrF++)
  int beta = 2;                // recall is beta times as important as precision; default 2
  bool lowercase = false;      // lowercase (Python str.lower) first; default false
  bool whitespace = false;     // keep whitespace in character n-grams; default false
  bool eps_smoothing = false;  // chrF++.py/Moses/NLTK epsilon smoothing instead of effective order; default false
};

// Per order (char orders first, then word orders): [hyp n-grams, ref n-grams, matches]; additive.
struct ChrfStats {
  std::vector<std::int64_t> values;  // 3 * (char_order + word_order)

  ChrfStats& operator+=(const ChrfStats& other);  // sizes must agree (or one side be empty)
};

struct ChrfResult {
  double score = 0.0;  // chrF in [0, 100]
  int char_order = 6;
  int word_order = 0;
  int beta = 2;

  std::string name() const;  // "chrF2", "chrF2++" (one '+' per word order)
  // sacreBLEU's Score.format: "chrF2 = 55.21", with a signature "chrF2|nrefs:1|... = 55.21",
  // score_only "55.21", is_json the JSON object.
  std::string format(int width = 2, bool score_only = false, std::string_view signature = {},
                     bool is_json = false) const;
};

class ChrfScorer {
 public:
  // Throws std::invalid_argument for negative orders, char_order + word_order == 0 or beta < 0.
  explicit ChrfScorer(ChrfOptions options = {});

  const ChrfOptions& options() const { return options_; }

  ChrfStats empty_stats() const;
  // Statistics of one sentence against the best of its references (highest sentence chrF; the
  // first wins ties). At least one reference; throws otherwise.
  ChrfStats segment_stats(std::string_view hyp, const std::vector<std::string>& refs) const;
  void add(ChrfStats& acc, std::string_view hyp, const std::vector<std::string>& refs) const;

  // sacreBLEU's _compute_f_score on (accumulated) statistics.
  double f_score(const ChrfStats& stats) const;
  ChrfResult compute(const ChrfStats& stats) const;

  ChrfStats corpus_stats(const std::vector<std::string>& hyps, const RefStreams& refs) const;
  // With missing references (std::nullopt); named apart so that brace-initialised calls are unambiguous.
  ChrfStats corpus_stats_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const;
  // Statistics of every segment (sacreBLEU's _extract_corpus_statistics).
  std::vector<ChrfStats> segment_stats_all(const std::vector<std::string>& hyps, const RefStreams& refs) const;
  ChrfResult corpus_score(const std::vector<std::string>& hyps, const RefStreams& refs) const;
  ChrfResult corpus_score_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const;
  ChrfResult sentence_score(std::string_view hyp, const std::vector<std::string>& refs) const;

  // "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0" (num_refs -1 prints "var");
  // short_form: "#:1|c:mixed|e:yes|nc:6|nw:0|s:no|v:2.6.0".
  std::string signature(int num_refs, bool short_form = false) const;

 private:
  ChrfStats segment_stats_views(std::string_view hyp, const std::vector<std::string_view>& refs) const;

  ChrfOptions options_;
};

}  // namespace gnmt
