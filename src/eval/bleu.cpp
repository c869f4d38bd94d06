#include "eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "eval/ngram_index.h"
#include "eval/score_format.h"
#include "eval/unicode.h"

namespace gnmt {
namespace {

enum SmoothKind { kNone = 0, kFloor = 1, kAddK = 2, kExp = 3 };

// sacreBLEU's utils.my_log
double my_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace

// ---------------------------------------------------------------------------------------------
BleuStats& BleuStats::operator+=(const BleuStats& o) {
  if (counts.empty() && totals.empty()) {
    counts.assign(o.counts.size(), 0);
    totals.assign(o.totals.size(), 0);
  }
  if (o.counts.size() != counts.size() || o.totals.size() != totals.size()) {
    if (!(o.counts.empty() && o.totals.empty())) {
      throw std::invalid_argument("BleuStats: adding statistics of different n-gram orders");
    }
  }
  sys_len += o.sys_len;
  ref_len += o.ref_len;
  for (std::size_t i = 0; i < o.counts.size(); ++i) counts[i] += o.counts[i];
  for (std::size_t i = 0; i < o.totals.size(); ++i) totals[i] += o.totals[i];
  return *this;
}

std::vector<std::int64_t> BleuStats::flat() const {
  std::vector<std::int64_t> v{sys_len, ref_len};
  v.insert(v.end(), counts.begin(), counts.end());
  v.insert(v.end(), totals.begin(), totals.end());
  return v;
}

BleuStats BleuStats::from_flat(const std::vector<std::int64_t>& v) {
  if (v.size() < 2 || (v.size() - 2) % 2 != 0) throw std::invalid_argument("BleuStats::from_flat: bad size");
  BleuStats s;
  const std::size_t n = (v.size() - 2) / 2;
  s.sys_len = v[0];
  s.ref_len = v[1];
  s.counts.assign(v.begin() + 2, v.begin() + 2 + static_cast<std::ptrdiff_t>(n));
  s.totals.assign(v.begin() + 2 + static_cast<std::ptrdiff_t>(n), v.end());
  return s;
}

// ---------------------------------------------------------------------------------------------
double BleuResult::ratio() const {
  return ref_len ? static_cast<double>(sys_len) / static_cast<double>(ref_len) : 0.0;
}

std::string BleuResult::verbose() const {
  std::string s;
  for (std::size_t i = 0; i < precisions.size(); ++i) {
    if (i) s += "/";
    s += format_fixed(precisions[i], 1);
  }
  s += " (BP = " + format_fixed(bp, 3) + " ratio = " + format_fixed(ratio(), 3) +
       " hyp_len = " + std::to_string(sys_len) + " ref_len = " + std::to_string(ref_len) + ")";
  return s;
}

std::string BleuResult::format(int width, bool score_only, std::string_view signature, bool is_json) const {
  return format_score("BLEU", score, verbose(), width, score_only, signature, is_json);
}

std::int64_t closest_ref_len(std::int64_t hyp_len, const std::vector<std::int64_t>& ref_lens) {
  std::int64_t closest_diff = -1, closest_len = -1;
  for (const std::int64_t r : ref_lens) {
    const std::int64_t diff = hyp_len > r ? hyp_len - r : r - hyp_len;
    if (closest_diff == -1 || diff < closest_diff) {
      closest_diff = diff;
      closest_len = r;
    } else if (diff == closest_diff && r < closest_len) {
      closest_len = r;
    }
  }
  return closest_len;
}

// ---------------------------------------------------------------------------------------------
BleuScorer::BleuScorer(BleuOptions options) : options_(std::move(options)) {
  tokenizer_ = parse_bleu_tokenizer(options_.tokenize);
  const std::string& m = options_.smooth_method;
  if (m == "none") {
    smooth_kind_ = kNone;
  } else if (m == "floor") {
    smooth_kind_ = kFloor;
    smooth_value_ = 0.1;
  } else if (m == "add-k") {
    smooth_kind_ = kAddK;
    smooth_value_ = 1.0;
  } else if (m == "exp") {
    smooth_kind_ = kExp;
  } else {
    throw std::invalid_argument("unknown BLEU smoothing method '" + m + "' (expected exp, floor, add-k or none)");
  }
  if (options_.smooth_value) smooth_value_ = *options_.smooth_value;
  if (options_.max_ngram_order < 1) throw std::invalid_argument("BLEU max_ngram_order must be >= 1");
}

std::string BleuScorer::preprocess(std::string_view sentence) const {
  if (options_.lowercase) {
    const std::string low = unicode::to_lower_utf8(sentence);
    return tokenize(tokenizer_, unicode::rstrip(low));
  }
  return tokenize(tokenizer_, unicode::rstrip(sentence));
}

BleuStats BleuScorer::empty_stats() const {
  BleuStats s;
  s.counts.assign(static_cast<std::size_t>(options_.max_ngram_order), 0);
  s.totals.assign(static_cast<std::size_t>(options_.max_ngram_order), 0);
  return s;
}

BleuStats BleuScorer::segment_stats(std::string_view hyp, const std::vector<std::string>& refs) const {
  std::vector<std::string_view> views(refs.begin(), refs.end());
  return segment_stats_views(hyp, views);
}

namespace {

// Per-thread buffers reused across segments (segment_stats_views allocates nothing in the steady state).
struct BleuScratch {
  std::vector<std::string> text, lowered;
  std::vector<std::vector<std::uint32_t>> ids;
  detail::Interner vocab;
  std::vector<std::string_view> toks;
  std::vector<detail::NgramIndex> index;
  std::vector<detail::NgramGroup> hg, rg;
  std::vector<std::uint32_t> maxc;
  std::vector<std::int64_t> ref_lens;
  std::vector<std::uint64_t> matches;
};

}  // namespace

BleuStats BleuScorer::segment_stats_views(std::string_view hyp, const std::vector<std::string_view>& refs) const {
  if (refs.empty()) throw std::invalid_argument("BLEU: a sentence has no reference");
  const int N = options_.max_ngram_order;
  const std::size_t R = refs.size();
  thread_local BleuScratch sc;

  // Preprocess and split; intern tokens of this segment to ids 1..D.
  auto& text = sc.text;
  auto& lowered = sc.lowered;
  text.resize(R + 1);
  lowered.resize(R + 1);
  auto& ids = sc.ids;
  if (ids.size() < R + 1) ids.resize(R + 1);
  auto& vocab = sc.vocab;
  std::size_t total_bytes = hyp.size();
  for (const auto& r : refs) total_bytes += r.size();
  vocab.reset(total_bytes / 2 + 1);  // at most one token per two bytes (with separators)
  auto& toks = sc.toks;
  for (std::size_t k = 0; k <= R; ++k) {
    const std::string_view raw = k == 0 ? hyp : refs[k - 1];
    toks.clear();
    if (tokenizer_ == BleuTokenizer::k13a) {  // the tokens, mostly as views into the line itself
      std::string_view s = raw;
      if (options_.lowercase) s = lowered[k] = unicode::to_lower_utf8(raw);
      tokenize_13a_tokens(unicode::rstrip(s), text[k], toks);
    } else {
      text[k] = preprocess(raw);
      // intl ends with ' '.join(line.split()); char keeps whitespace code points as tokens.
      if (tokenizer_ == BleuTokenizer::kIntl) {
        split_single_spaces(text[k], toks);
      } else {
        unicode::split_whitespace(text[k], toks);
      }
    }
    ids[k].clear();
    ids[k].reserve(toks.size());
    for (const auto& t : toks) ids[k].push_back(vocab.id(t));
  }
  const int bits = detail::bits_for(static_cast<std::uint32_t>(vocab.size()));

  BleuStats st = empty_stats();
  st.sys_len = static_cast<std::int64_t>(ids[0].size());
  auto& ref_lens = sc.ref_lens;
  ref_lens.clear();
  for (std::size_t k = 1; k <= R; ++k) ref_lens.push_back(static_cast<std::int64_t>(ids[k].size()));
  st.ref_len = closest_ref_len(st.sys_len, ref_lens);

  auto& index = sc.index;
  if (index.size() < R + 1) index.resize(R + 1);
  for (std::size_t k = 0; k <= R; ++k) index[k].build(ids[k].data(), ids[k].size(), N, bits, true);

  if (R == 1 && index[0].narrow()) {
    sc.matches.resize(static_cast<std::size_t>(N));
    // One reference: clipped counts are min(hyp count, ref count), by a direct merge walk.
    const std::size_t lh = ids[0].size();
    std::uint64_t* matches = sc.matches.data();
    index[0].clipped_matches_narrow_all(index[1], matches);
    for (std::size_t n = 1; n <= static_cast<std::size_t>(N) && n <= lh; ++n) {
      st.totals[n - 1] = static_cast<std::int64_t>(lh - n + 1);
      st.counts[n - 1] = static_cast<std::int64_t>(matches[n - 1]);
    }
    return st;
  }
  auto& hg = sc.hg;
  auto& rg = sc.rg;
  auto& maxc = sc.maxc;
  for (int n = 1; n <= N; ++n) {
    index[0].groups(n, hg);
    if (hg.empty()) continue;
    maxc.assign(hg.size(), 0);
    for (std::size_t k = 1; k <= R; ++k) {
      index[k].groups(n, rg);
      std::size_t i = 0, j = 0;
      while (i < hg.size() && j < rg.size()) {
        const int c = index[0].compare(n, hg[i], index[k], rg[j]);
        if (c < 0) {
          ++i;
        } else if (c > 0) {
          ++j;
        } else {
          maxc[i] = std::max(maxc[i], rg[j].count);
          ++i;
          ++j;
        }
      }
    }
    std::int64_t correct = 0, total = 0;
    for (std::size_t i = 0; i < hg.size(); ++i) {
      total += hg[i].count;
      correct += std::min(hg[i].count, maxc[i]);
    }
    st.counts[static_cast<std::size_t>(n - 1)] = correct;
    st.totals[static_cast<std::size_t>(n - 1)] = total;
  }
  return st;
}

void BleuScorer::add(BleuStats& acc, std::string_view hyp, const std::vector<std::string>& refs) const {
  acc += segment_stats(hyp, refs);
}

// sacreBLEU's BLEU.compute_bleu, operation for operation.
BleuResult BleuScorer::compute(const BleuStats& stats) const {
  const int N = options_.max_ngram_order;
  BleuResult res;
  res.sys_len = stats.sys_len;
  res.ref_len = stats.ref_len;
  res.counts = stats.counts;
  res.totals = stats.totals;
  res.counts.resize(static_cast<std::size_t>(N), 0);
  res.totals.resize(static_cast<std::size_t>(N), 0);
  res.precisions.assign(static_cast<std::size_t>(N), 0.0);

  res.bp = 1.0;
  if (res.sys_len < res.ref_len) {
    res.bp = res.sys_len > 0
                 ? std::exp(1.0 - static_cast<double>(res.ref_len) / static_cast<double>(res.sys_len))
                 : 0.0;
  }

  bool any = false;
  for (const std::int64_t c : res.counts) any = any || c != 0;
  if (!any) {
    res.score = 0.0;
    return res;
  }

  std::vector<double> correct(res.counts.begin(), res.counts.end());
  std::vector<double> total(res.totals.begin(), res.totals.end());
  double smooth_mteval = 1.0;
  int eff_order = N;
  for (int n = 1; n <= N; ++n) {
    const std::size_t i = static_cast<std::size_t>(n - 1);
    if (smooth_kind_ == kAddK && n > 1) {
      correct[i] += smooth_value_;
      total[i] += smooth_value_;
    }
    if (total[i] == 0) break;
    if (options_.effective_order) eff_order = n;
    if (correct[i] == 0) {
      if (smooth_kind_ == kExp) {
        smooth_mteval *= 2;
        res.precisions[i] = 100.0 / (smooth_mteval * total[i]);
      } else if (smooth_kind_ == kFloor) {
        res.precisions[i] = 100.0 * smooth_value_ / total[i];
      }
    } else {
      res.precisions[i] = 100.0 * correct[i] / total[i];
    }
  }
  double log_sum = 0.0;
  for (int n = 0; n < eff_order; ++n) log_sum += my_log(res.precisions[static_cast<std::size_t>(n)]);
  res.score = res.bp * std::exp(log_sum / eff_order);
  return res;
}

BleuStats BleuScorer::corpus_stats(const std::vector<std::string>& hyps, const RefStreams& refs) const {
  std::vector<std::size_t> sizes;
  for (const auto& s : refs) sizes.push_back(s.size());
  detail::check_ref_streams("BLEU", hyps.size(), refs.size(), sizes);
  return detail::parallel_accumulate(hyps.size(), empty_stats(), [&](std::size_t b, std::size_t e, BleuStats& acc) {
    std::vector<std::string_view> seg(refs.size());
    for (std::size_t i = b; i < e; ++i) {
      for (std::size_t k = 0; k < refs.size(); ++k) seg[k] = refs[k][i];
      acc += segment_stats_views(hyps[i], seg);
    }
  });
}

BleuStats BleuScorer::corpus_stats_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const {
  return detail::corpus_stats_optional("BLEU", hyps, refs, empty_stats(),
                                       [this](std::string_view h, const auto& r) { return segment_stats_views(h, r); });
}

std::vector<BleuStats> BleuScorer::segment_stats_all(const std::vector<std::string>& hyps, const RefStreams& refs) const {
  return detail::segment_stats_all<BleuStats>(
      "BLEU", hyps, refs, [this](std::string_view h, const auto& r) { return segment_stats_views(h, r); });
}

BleuResult BleuScorer::corpus_score(const std::vector<std::string>& hyps, const RefStreams& refs) const {
  return compute(corpus_stats(hyps, refs));
}

BleuResult BleuScorer::corpus_score_optional(const std::vector<std::string>& hyps, const OptionalRefStreams& refs) const {
  return compute(corpus_stats_optional(hyps, refs));
}

BleuResult BleuScorer::sentence_score(std::string_view hyp, const std::vector<std::string>& refs) const {
  return compute(segment_stats(hyp, refs));
}

std::string BleuScorer::signature(int num_refs, bool short_form) const {
  std::string smooth = options_.smooth_method;
  if (smooth_kind_ == kFloor || smooth_kind_ == kAddK) smooth += "[" + format_fixed(smooth_value_, 2) + "]";
  const std::vector<SignatureField> fields = {
      {"nrefs", "#", nrefs_string(num_refs)},
      {"case", "c", options_.lowercase ? "lc" : "mixed"},
      {"eff", "e", options_.effective_order ? "yes" : "no"},
      {"tok", "tok", bleu_tokenizer_name(tokenizer_)},
      {"smooth", "s", smooth},
      {"version", "v", kSacreBleuVersion},
  };
  return format_signature(fields, short_form);
}

}  // namespace gnmt
