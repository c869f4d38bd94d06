#include "eval/chrf.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "eval/ngram_index.h"
#include "eval/score_format.h"
#include "eval/unicode.h"

namespace gnmt {
namespace {

// Python's string.punctuation, which chrF++ strips from word ends.
inline bool is_ascii_punct(unsigned char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

// unicode::is_space, inline for ASCII, and rejecting most other code points at once (none below
// U+0085, nor from U+00A1 to U+167F, nor from U+3001).
inline bool is_space_fast(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  if (c < 0x85 || (c > 0xA0 && c < 0x1680) || c > 0x3000) return false;
  return unicode::is_space(c);
}

// sacreBLEU CHRF._remove_punctuation: split on whitespace; a word of 2+ characters loses one
// trailing punctuation mark or, failing that, one leading mark, as a separate word.
void remove_punctuation(std::string_view sent, std::vector<std::string_view>& out) {
  thread_local std::vector<std::string_view> words;
  words.clear();
  unicode::split_whitespace(sent, words);
  for (const auto& w : words) {
    if (w.size() == 1 || (w.size() <= 4 && unicode::code_point_count(w) == 1)) {
      out.push_back(w);
    } else if (is_ascii_punct(static_cast<unsigned char>(w.back()))) {
      out.push_back(w.substr(0, w.size() - 1));
      out.push_back(w.substr(w.size() - 1));
    } else if (is_ascii_punct(static_cast<unsigned char>(w.front()))) {
      out.push_back(w.substr(0, 1));
      out.push_back(w.substr(1));
    } else {
      out.push_back(w);
    }
  }
}

// One sentence prepared for n-gram extraction: character symbols (code point + 1) and word ids.
struct Prepared {
  std::vector<std::uint32_t> chars;
  std::vector<std::uint32_t> words;
  detail::NgramIndex char_index, word_index;
};

// Per-thread buffers reused across segments.
struct ChrfScratch {
  std::vector<std::string> lowered;
  std::vector<std::string_view> text;
  std::vector<Prepared> prep;
  std::u32string cps;
  detail::Interner vocab;
  std::vector<std::string_view> words;
  std::vector<std::vector<detail::NgramGroup>> hyp_groups;
  std::vector<detail::NgramGroup> rg;
  std::vector<std::uint64_t> narrow_matches;  // per order, from clipped_matches_narrow_all
  std::uint32_t small_ids[256] = {};
  std::unordered_map<char32_t, std::uint32_t> big_ids;
};

}  // namespace

ChrfStats& ChrfStats::operator+=(const ChrfStats& o) {
  if (values.empty()) values.assign(o.values.size(), 0);
  if (o.values.empty()) return *this;
  if (o.values.size() != values.size()) throw std::invalid_argument("ChrfStats: adding statistics of different orders");
  for (std::size_t i = 0; i < values.size(); ++i) values[i] += o.values[i];
  return *this;
}

std::string ChrfResult::name() const {
  return "chrF" + std::to_string(beta) + std::string(static_cast<std::size_t>(std::max(0, word_order)), '+');
}

std::string ChrfResult::format(int width, bool score_only, std::string_view signature, bool is_json) const {
  return format_score(name(), score, "", width, score_only, signature, is_json);
}

ChrfScorer::ChrfScorer(ChrfOptions options) : options_(options) {
  if (options_.char_order < 0 || options_.word_order < 0) throw std::invalid_argument("chrF orders must be >= 0");
  if (options_.char_order + options_.word_order == 0) {
    throw std::invalid_argument("chrF needs char_order + word_order > 0");
  }
  if (options_.beta < 0) throw std::invalid_argument("chrF beta must be >= 0");
}

ChrfStats ChrfScorer::empty_stats() const {
  ChrfStats s;
  s.values.assign(static_cast<std::size_t>(3 * (options_.char_order + options_.word_order)), 0);
  return s;
}

ChrfStats ChrfScorer::segment_stats(std::string_view hyp, const std::vector<std::string>& refs) const {
  std::vector<std::string_view> views(refs.begin(), refs.end());
  return segment_stats_views(hyp, views);
}

ChrfStats ChrfScorer::segment_stats_views(std::string_view hyp, const std::vector<std::string_view>& refs) const {
  if (refs.empty()) throw std::invalid_argument("chrF: a sentence has no reference");
  const int C = options_.char_order, W = options_.word_order;
  const std::size_t R = refs.size();

  thread_local ChrfScratch sc;
  // Lowercased copies only when needed; otherwise the views are used directly.
  auto& lowered = sc.lowered;
  std::vector<std::string_view>& text = sc.text;
  text.clear();
  if (options_.lowercase) {
    lowered.resize(R + 1);
    lowered[0] = unicode::to_lower_utf8(hyp);
    for (std::size_t k = 0; k < R; ++k) lowered[k + 1] = unicode::to_lower_utf8(refs[k]);
    for (std::size_t k = 0; k <= R; ++k) text.emplace_back(lowered[k]);
  } else {
    text.push_back(hyp);
    for (const auto& r : refs) text.push_back(r);
  }

  auto& prep = sc.prep;
  if (prep.size() < R + 1) prep.resize(R + 1);
  // Characters get dense per-segment ids 1..D (only equality matters), so that n-gram windows
  // pack into 64-bit keys.
  std::uint32_t max_char = 1;
  auto& small_ids = sc.small_ids;
  auto& big_ids = sc.big_ids;
  big_ids.clear();
  std::uint32_t next_char = 0;
  auto intern_char = [&](char32_t c) -> std::uint32_t {
    std::uint32_t* slot;
    if (c < 256) {
      slot = &small_ids[c];
    } else {
      slot = &big_ids[c];
    }
    if (*slot == 0) *slot = ++next_char;
    return *slot;
  };
  auto& cps = sc.cps;
  auto& vocab = sc.vocab;
  if (W > 0) {
    std::size_t total_bytes = 0;
    for (const auto& t : text) total_bytes += t.size();
    vocab.reset(total_bytes / 2 + 1);
  }
  auto& words = sc.words;
  for (std::size_t k = 0; k <= R; ++k) {
    prep[k].chars.clear();
    prep[k].words.clear();
    if (C > 0) {
      auto& ch = prep[k].chars;
      const std::string_view t = text[k];
      ch.reserve(t.size());
      bool ascii = true;
      for (const char c : t) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
      if (ascii) {
        for (const char c : t) {
          const auto u = static_cast<unsigned char>(c);
          if (!options_.whitespace && is_space_fast(u)) continue;
          ch.push_back(intern_char(u));
        }
      } else {
        cps.clear();
        unicode::decode_utf8(t, cps);
        for (const char32_t c : cps) {
          if (!options_.whitespace && is_space_fast(c)) continue;
          ch.push_back(intern_char(c));
        }
      }
    }
    if (W > 0) {
      words.clear();
      remove_punctuation(text[k], words);
      for (const auto& w : words) {
        prep[k].words.push_back(vocab.id(w));
      }
    }
  }
  if (next_char > 0) std::fill(std::begin(small_ids), std::end(small_ids), 0u);
  max_char = std::max<std::uint32_t>(max_char, next_char);
  const int char_bits = detail::bits_for(max_char);
  const int word_bits = detail::bits_for(static_cast<std::uint32_t>(vocab.size() + 1));
  for (auto& p : prep) {
    if (C > 0) p.char_index.build(p.chars.data(), p.chars.size(), C, char_bits);
    if (W > 0) p.word_index.build(p.words.data(), p.words.size(), W, word_bits, true);
  }

  // Hypothesis n-gram groups per order (char orders then word orders).
  const int orders = C + W;
  auto& hyp_groups = sc.hyp_groups;
  if (hyp_groups.size() < static_cast<std::size_t>(orders)) hyp_groups.resize(static_cast<std::size_t>(orders));
  const bool char_narrow = C > 0 && prep[0].char_index.narrow();
  if (!char_narrow) {
    for (int n = 1; n <= C; ++n) prep[0].char_index.groups(n, hyp_groups[static_cast<std::size_t>(n - 1)]);
  }
  const bool word_narrow = W > 0 && prep[0].word_index.narrow();
  if (!word_narrow) {
    for (int n = 1; n <= W; ++n) prep[0].word_index.groups(n, hyp_groups[static_cast<std::size_t>(C + n - 1)]);
  }

  auto count_of = [](std::size_t len, int n) -> std::int64_t {
    return len >= static_cast<std::size_t>(n) ? static_cast<std::int64_t>(len - static_cast<std::size_t>(n) + 1) : 0;
  };

  ChrfStats best;
  double best_f = -1.0;
  ChrfStats cur = empty_stats();
  auto& rg = sc.rg;
  auto& narrow_matches = sc.narrow_matches;
  narrow_matches.assign(static_cast<std::size_t>(orders), 0);
  for (std::size_t k = 1; k <= R; ++k) {
    if (char_narrow) prep[0].char_index.clipped_matches_narrow_all(prep[k].char_index, narrow_matches.data());
    if (word_narrow) prep[0].word_index.clipped_matches_narrow_all(prep[k].word_index, narrow_matches.data() + C);
    for (int o = 0; o < orders; ++o) {
      const bool is_char = o < C;
      const int n = is_char ? o + 1 : o - C + 1;
      const detail::NgramIndex& hi = is_char ? prep[0].char_index : prep[0].word_index;
      const detail::NgramIndex& ri = is_char ? prep[k].char_index : prep[k].word_index;
      const std::int64_t n_hyp = count_of(hi.length(), n);
      const std::int64_t n_ref = count_of(ri.length(), n);
      std::int64_t match = 0;
      if (n_hyp > 0 && n_ref > 0 && (is_char ? char_narrow : word_narrow)) {
        match = static_cast<std::int64_t>(narrow_matches[static_cast<std::size_t>(o)]);
      } else if (n_hyp > 0 && n_ref > 0) {
        ri.groups(n, rg);
        match = static_cast<std::int64_t>(detail::clipped_matches(n, hi, hyp_groups[static_cast<std::size_t>(o)], ri, rg));
      }
      const std::size_t b = static_cast<std::size_t>(3 * o);
      cur.values[b] = n_ref > 0 ? n_hyp : 0;  // hits are not counted without reference n-grams
      cur.values[b + 1] = n_ref;
      cur.values[b + 2] = match;
    }
    const double f = f_score(cur);
    if (f > best_f) {
      best_f = f;
      best = cur;
    }
  }
  return best;
}

void ChrfScorer::add(ChrfStats& acc, std::string_view hyp, const std::vector<std::string>& refs) const {
  acc += segment_stats(hyp, refs);
}

// sacreBLEU's CHRF._compute_f_score, operation for operation.
double ChrfScorer::f_score(const ChrfStats& stats) const {
  const double eps = 1e-16;
  const int orders = options_.char_order + options_.word_order;
  const int factor = options_.beta * options_.beta;
  double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (int i = 0; i < orders; ++i) {
    const std::size_t b = static_cast<std::size_t>(3 * i);
    const std::int64_t n_hyp = stats.values.at(b), n_ref = stats.values.at(b + 1), n_match = stats.values.at(b + 2);
    const double prec = n_hyp > 0 ? static_cast<double>(n_match) / static_cast<double>(n_hyp) : eps;
    const double rec = n_ref > 0 ? static_cast<double>(n_match) / static_cast<double>(n_ref) : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? (static_cast<double>(1 + factor) * prec * rec / denom) : eps;
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (options_.eps_smoothing) return 100 * score / orders;
  if (effective_order == 0) {
    avg_prec = avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec != 0.0) {
    score = static_cast<double>(1 + factor) * avg_prec * avg_rec;
    score /= (factor * avg_prec) + avg_rec;
    return 100 * score;
  }
  return 0.0;
}

ChrfResult ChrfScorer::compute(const ChrfStats& stats) const {
  ChrfResult r;
  ChrfStats s = stats;
  if (s.values.empty()) s = empty_stats();
  r.score = f_score(s);
  r.char_order = options_.char_order;
  r.word_order = options_.word_order;
  r.beta = options_.beta;
  return r;
}

ChrfStats ChrfScorer::corpus_stats(const std::vector<std::string>& hyps, const RefStreams& refs) const {
  std::vector<std::size_t> sizes;
  for (const auto& s : refs) sizes.push_back(s.size());
  detail::check_ref_streams("chrF", hyps.size(), refs.size(), sizes);
  return detail::parallel_accumulate(hyps.size(), empty_stats(), [&](std::size_t b, std::size_t e, ChrfStats& acc) {
    std::vector<std::string_view> seg(refs.size());
    for (std::size_t i = b; i < e; ++i) {
      for (std::size_t k = 0; k < refs.size(); ++k) seg[k] = refs[k][i];
      acc += segment_stats_views(hyps[i], seg);
    }
  });
}

ChrfStats ChrfScorer::corpus_stats_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const {
  return detail::corpus_stats_optional("chrF", hyps, refs, empty_stats(),
                                       [this](std::string_view h, const auto& r) { return segment_stats_views(h, r); });
}

std::vector<ChrfStats> ChrfScorer::segment_stats_all(const std::vector<std::string>& hyps, const RefStreams& refs) const {
  return detail::segment_stats_all<ChrfStats>(
      "chrF", hyps, refs, [this](std::string_view h, const auto& r) { return segment_stats_views(h, r); });
}

ChrfResult ChrfScorer::corpus_score(const std::vector<std::string>& hyps, const RefStreams& refs) const {
  return compute(corpus_stats(hyps, refs));
}

ChrfResult ChrfScorer::corpus_score_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const {
  return compute(corpus_stats_optional(hyps, refs));
}

ChrfResult ChrfScorer::sentence_score(std::string_view hyp, const std::vector<std::string>& refs) const {
  return compute(segment_stats(hyp, refs));
}

std::string ChrfScorer::signature(int num_refs, bool short_form) const {
  const std::vector<SignatureField> fields = {
      {"nrefs", "#", nrefs_string(num_refs)},
      {"case", "c", options_.lowercase ? "lc" : "mixed"},
      {"eff", "e", options_.eps_smoothing ? "no" : "yes"},
      {"nc", "nc", std::to_string(options_.char_order)},
      {"nw", "nw", std::to_string(options_.word_order)},
      {"space", "s", options_.whitespace ? "yes" : "no"},
      {"version", "v", kSacreBleuVersion},
  };
  return format_signature(fields, short_form);
}

}  // namespace gnmt
