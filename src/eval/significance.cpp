#include "eval/significance.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace gnmt {
namespace numpy_compat {
namespace {

// numpy/random/bit_generator.pyx (SeedSequence)
constexpr std::uint32_t kInitA = 0x43b0d7e5, kMultA = 0x931e8875, kInitB = 0x8b51f9dd, kMultB = 0x58f38ded;
constexpr std::uint32_t kMixMultL = 0xca01f9dd, kMixMultR = 0x4973f715;
constexpr int kXShift = 16;
constexpr std::size_t kPoolSize = 4;

inline std::uint32_t hashmix(std::uint32_t value, std::uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

inline std::uint32_t mix(std::uint32_t x, std::uint32_t y) {
  std::uint32_t r = kMixMultL * x - kMixMultR * y;
  r ^= r >> kXShift;
  return r;
}

// numpy/random/src/pcg64/pcg64.h
constexpr u128 kPcgMult = (static_cast<u128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

template <class T>
T pairwise_impl(const T* a, std::size_t n) {
  if (n < 8) {
    T res = static_cast<T>(-0.0);
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + static_cast<std::size_t>(j)];
    }
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_impl(a, n2) + pairwise_impl(a + n2, n - n2);
}

}  // namespace

std::vector<std::uint32_t> int_to_uint32_words(std::uint64_t n) {
  std::vector<std::uint32_t> w;
  if (n == 0) w.push_back(0);
  while (n > 0) {
    w.push_back(static_cast<std::uint32_t>(n & 0xFFFFFFFFu));
    n >>= 32;
  }
  return w;
}

std::vector<std::uint32_t> seed_sequence_state(const std::vector<std::uint32_t>& entropy, std::size_t n_words) {
  // mix_entropy
  std::uint32_t pool[kPoolSize];
  std::uint32_t hc = kInitA;
  for (std::size_t i = 0; i < kPoolSize; ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0u, hc);
  for (std::size_t src = 0; src < kPoolSize; ++src) {
    for (std::size_t dst = 0; dst < kPoolSize; ++dst) {
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src], hc));
    }
  }
  for (std::size_t src = kPoolSize; src < entropy.size(); ++src) {
    for (std::size_t dst = 0; dst < kPoolSize; ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src], hc));
  }
  // generate_state
  std::vector<std::uint32_t> out(n_words);
  std::uint32_t hb = kInitB;
  for (std::size_t i = 0; i < n_words; ++i) {
    std::uint32_t v = pool[i % kPoolSize];
    v ^= hb;
    hb *= kMultB;
    v *= hb;
    v ^= v >> kXShift;
    out[i] = v;
  }
  return out;
}

Pcg64::Pcg64(const std::vector<std::uint32_t>& entropy) {
  const std::vector<std::uint32_t> w = seed_sequence_state(entropy, 8);  // 4 uint64, little-endian pairs
  std::uint64_t v[4];
  for (int i = 0; i < 4; ++i) v[i] = static_cast<std::uint64_t>(w[2 * i]) | (static_cast<std::uint64_t>(w[2 * i + 1]) << 32);
  const u128 initstate = (static_cast<u128>(v[0]) << 64) | v[1];
  const u128 initseq = (static_cast<u128>(v[2]) << 64) | v[3];
  state_ = 0;
  inc_ = (initseq << 1) | 1;
  step();
  state_ += initstate;
  step();
}

void Pcg64::step() { state_ = state_ * kPcgMult + inc_; }

std::uint64_t Pcg64::next64() {
  step();
  const std::uint64_t x = static_cast<std::uint64_t>(state_ >> 64) ^ static_cast<std::uint64_t>(state_);
  const unsigned rot = static_cast<unsigned>(state_ >> 122);
  return (x >> rot) | (x << ((64u - rot) & 63u));
}

std::uint32_t Pcg64::next32() {
  if (has_uint32_) {
    has_uint32_ = false;
    return uinteger_;
  }
  const std::uint64_t n = next64();
  has_uint32_ = true;
  uinteger_ = static_cast<std::uint32_t>(n >> 32);
  return static_cast<std::uint32_t>(n & 0xFFFFFFFFu);
}

std::uint32_t bounded_uint32(Pcg64& rng, std::uint64_t high) {
  if (high <= 1) return 0;
  const std::uint64_t r = high - 1;
  if (r == 0xFFFFFFFFull) return rng.next32();
  const std::uint32_t rng_excl = static_cast<std::uint32_t>(high);
  std::uint64_t m = static_cast<std::uint64_t>(rng.next32()) * rng_excl;
  std::uint32_t leftover = static_cast<std::uint32_t>(m & 0xFFFFFFFFu);
  if (leftover < rng_excl) {
    const std::uint32_t threshold = static_cast<std::uint32_t>((0xFFFFFFFFull - r) % rng_excl);
    while (leftover < threshold) {
      m = static_cast<std::uint64_t>(rng.next32()) * rng_excl;
      leftover = static_cast<std::uint32_t>(m & 0xFFFFFFFFu);
    }
  }
  return static_cast<std::uint32_t>(m >> 32);
}

float pairwise_sum(const float* a, std::size_t n) { return pairwise_impl(a, n); }
double pairwise_sum(const double* a, std::size_t n) { return pairwise_impl(a, n); }

}  // namespace numpy_compat

// ---------------------------------------------------------------------------------------------
// NumPy 2 scalar arithmetic (NEP 50): a Python float/int meeting a float32 is cast to float32.
namespace {

NpValue py(double v) { return {v, false}; }
NpValue f32(float v) { return {static_cast<double>(v), true}; }
inline float as_f(const NpValue& v) { return static_cast<float>(v.value); }

NpValue np_add(NpValue a, NpValue b) { return a.is_f32 || b.is_f32 ? f32(as_f(a) + as_f(b)) : py(a.value + b.value); }
NpValue np_mul(NpValue a, NpValue b) { return a.is_f32 || b.is_f32 ? f32(as_f(a) * as_f(b)) : py(a.value * b.value); }
NpValue np_div(NpValue a, NpValue b) { return a.is_f32 || b.is_f32 ? f32(as_f(a) / as_f(b)) : py(a.value / b.value); }

double my_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace

NpValue bleu_score_from_f32_stats(const BleuScorer& bleu, const float* s) {
  const BleuOptions& o = bleu.options();
  const int N = o.max_ngram_order;
  const std::string& m = o.smooth_method;
  const double sv = bleu.effective_smooth_value();
  const auto sys_len = static_cast<std::int64_t>(s[0]);
  const auto ref_len = static_cast<std::int64_t>(s[1]);
  double bp = 1.0;
  if (sys_len < ref_len) {
    bp = sys_len > 0 ? std::exp(1.0 - static_cast<double>(ref_len) / static_cast<double>(sys_len)) : 0.0;
  }
  std::vector<float> correct(s + 2, s + 2 + N), total(s + 2 + N, s + 2 + 2 * N);
  bool any = false;
  for (const float c : correct) any = any || c != 0.0f;
  if (!any) return py(0.0);
  std::vector<double> prec(static_cast<std::size_t>(N), 0.0);
  double smooth_mteval = 1.0;
  int eff_order = N;
  for (int n = 1; n <= N; ++n) {
    const std::size_t i = static_cast<std::size_t>(n - 1);
    if (m == "add-k" && n > 1) {
      correct[i] = correct[i] + static_cast<float>(sv);
      total[i] = total[i] + static_cast<float>(sv);
    }
    if (total[i] == 0.0f) break;
    if (o.effective_order) eff_order = n;
    if (correct[i] == 0.0f) {
      if (m == "exp") {
        smooth_mteval *= 2;
        const float d = static_cast<float>(smooth_mteval) * total[i];
        prec[i] = static_cast<double>(100.0f / d);
      } else if (m == "floor") {
        prec[i] = static_cast<double>(static_cast<float>(100.0 * sv) / total[i]);
      }
    } else {
      prec[i] = static_cast<double>((100.0f * correct[i]) / total[i]);
    }
  }
  double log_sum = 0.0;
  for (int n = 0; n < eff_order; ++n) log_sum += my_log(prec[static_cast<std::size_t>(n)]);
  return py(bp * std::exp(log_sum / eff_order));
}

NpValue chrf_score_from_f32_stats(const ChrfScorer& chrf, const float* st) {
  const ChrfOptions& o = chrf.options();
  const int orders = o.char_order + o.word_order;
  const NpValue eps = py(1e-16);
  const NpValue factor = py(static_cast<double>(o.beta * o.beta));
  const NpValue one_plus = py(static_cast<double>(1 + o.beta * o.beta));
  NpValue score = py(0.0), avg_prec = py(0.0), avg_rec = py(0.0);
  int effective_order = 0;
  for (int i = 0; i < orders; ++i) {
    const float n_hyp = st[3 * i], n_ref = st[3 * i + 1], n_match = st[3 * i + 2];
    const NpValue prec = n_hyp > 0 ? f32(n_match / n_hyp) : eps;
    const NpValue rec = n_ref > 0 ? f32(n_match / n_ref) : eps;
    const NpValue denom = np_add(np_mul(factor, prec), rec);
    score = np_add(score, denom.value > 0 ? np_div(np_mul(np_mul(one_plus, prec), rec), denom) : eps);
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec = np_add(avg_prec, prec);
      avg_rec = np_add(avg_rec, rec);
      ++effective_order;
    }
  }
  if (o.eps_smoothing) return np_div(np_mul(py(100.0), score), py(static_cast<double>(orders)));
  if (effective_order == 0) {
    avg_prec = avg_rec = py(0.0);
  } else {
    avg_prec = np_div(avg_prec, py(static_cast<double>(effective_order)));
    avg_rec = np_div(avg_rec, py(static_cast<double>(effective_order)));
  }
  if (np_add(avg_prec, avg_rec).value != 0.0) {
    NpValue sc = np_mul(np_mul(one_plus, avg_prec), avg_rec);
    sc = np_div(sc, np_add(np_mul(factor, avg_prec), avg_rec));
    return np_mul(py(100.0), sc);
  }
  return py(0.0);
}

// ---------------------------------------------------------------------------------------------
namespace {

// A NumPy 1-D array of scores: float32 if every element is a float32 scalar, else float64.
struct ScoreArray {
  std::vector<double> v;
  bool f32 = true;
};

ScoreArray make_array(const std::vector<NpValue>& xs) {
  ScoreArray a;
  a.v.reserve(xs.size());
  for (const NpValue& x : xs) {
    a.v.push_back(x.value);
    a.f32 = a.f32 && x.is_f32;
  }
  if (xs.empty()) a.f32 = false;
  return a;
}

// arr.mean() (pairwise sum, then division by the count as float64, cast back to the dtype)
double np_mean(const ScoreArray& a) {
  const std::size_t n = a.v.size();
  if (a.f32) {
    std::vector<float> f(a.v.begin(), a.v.end());
    const float s = 0.0f + numpy_compat::pairwise_sum(f.data(), n);
    return static_cast<double>(static_cast<float>(static_cast<double>(s) / static_cast<double>(n)));
  }
  const double s = 0.0 + numpy_compat::pairwise_sum(a.v.data(), n);
  return s / static_cast<double>(n);
}

// significance.estimate_ci
void estimate_ci(const ScoreArray& a, double& mean, double& ci) {
  ScoreArray s = a;
  std::sort(s.v.begin(), s.v.end());
  const std::size_t n = s.v.size();
  const std::size_t lo = n / 40, hi = n - lo - 1;
  mean = np_mean(s);
  if (s.f32) {
    const float d = static_cast<float>(s.v[hi]) - static_cast<float>(s.v[lo]);
    ci = static_cast<double>(0.5f * d);
  } else {
    ci = 0.5 * (s.v[hi] - s.v[lo]);
  }
}

// significance._compute_p_value on |sys - bl| - mean(|sys - bl|)
double p_value(const ScoreArray& sys, const ScoreArray& bl, double real_diff) {
  ScoreArray d;
  d.f32 = sys.f32 && bl.f32;
  const std::size_t n = sys.v.size();
  d.v.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    d.v[i] = d.f32 ? static_cast<double>(std::fabs(static_cast<float>(sys.v[i]) - static_cast<float>(bl.v[i])))
                   : std::fabs(sys.v[i] - bl.v[i]);
  }
  const double m = np_mean(d);
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (d.f32) {
      const float st = static_cast<float>(d.v[i]) - static_cast<float>(m);
      if (st > static_cast<float>(real_diff)) ++c;
    } else {
      if (d.v[i] - m > real_diff) ++c;
    }
  }
  return static_cast<double>(c + 1) / static_cast<double>(n + 1);
}

std::vector<std::uint32_t> random_entropy() {
  std::random_device rd;
  std::vector<std::uint32_t> w(4);
  for (auto& x : w) x = rd();
  return w;
}

// Bootstrap scores of the given systems over n_samples resamples drawn from one fresh generator
// (Generator.choice(L, size=(n_samples, L)), row by row): out[metric][k][sample] for systems[k].
std::vector<std::vector<std::vector<NpValue>>> resample_scores(const std::vector<PairedBsMetric>& metrics,
                                                                const std::vector<std::vector<std::vector<float>>>& fstats,
                                                                const std::vector<std::size_t>& systems, int n_samples,
                                                                const std::vector<std::uint32_t>& entropy, std::size_t L) {
  numpy_compat::Pcg64 rng(entropy);
  std::vector<std::vector<std::vector<NpValue>>> out(metrics.size());
  for (auto& m : out) m.assign(systems.size(), std::vector<NpValue>(static_cast<std::size_t>(n_samples)));
  std::vector<std::uint32_t> idx(L);
  std::vector<float> acc;
  for (int s = 0; s < n_samples; ++s) {
    for (std::size_t i = 0; i < L; ++i) idx[i] = numpy_compat::bounded_uint32(rng, L);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      const std::size_t K = metrics[m].width;
      acc.resize(K);
      for (std::size_t k = 0; k < systems.size(); ++k) {
        const float* base = fstats[m][systems[k]].data();
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (std::size_t i = 0; i < L; ++i) {
          const float* row = base + static_cast<std::size_t>(idx[i]) * K;
          for (std::size_t j = 0; j < K; ++j) acc[j] += row[j];  // float32, sequential as ndarray.sum(0)
        }
        out[m][k][static_cast<std::size_t>(s)] = metrics[m].score_f32(acc.data());
      }
    }
  }
  return out;
}

}  // namespace

std::optional<std::uint64_t> sacrebleu_seed_from_env() {
  const char* env = std::getenv("SACREBLEU_SEED");
  std::string s = env ? env : "12345";
  std::string low = s;
  std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (low == "none") return std::nullopt;
  // Python int(): surrounding whitespace, an optional '+', digits and single underscores between digits.
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string t = s.substr(b, e - b);
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  std::string digits;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      continue;
    }
    digits.push_back(t[i]);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) {
    throw std::invalid_argument("SACREBLEU_SEED must be a non-negative integer or 'none', got '" + s + "'");
  }
  errno = 0;
  const unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
  if (errno == ERANGE) throw std::invalid_argument("SACREBLEU_SEED is too large (at most 2^64 - 1)");
  return static_cast<std::uint64_t>(v);
}

PairedBsOutput paired_bootstrap(const std::vector<PairedBsMetric>& metrics, int n_samples,
                                std::optional<std::uint64_t> seed) {
  if (n_samples <= 0) n_samples = 1000;
  PairedBsOutput res;
  if (metrics.empty()) return res;
  const std::size_t S = metrics[0].stats.size();
  if (S < 2) throw std::invalid_argument("paired bootstrap: needs a baseline and at least one system");
  const std::size_t K0 = metrics[0].width;
  const std::size_t L = K0 ? metrics[0].stats[0].size() / K0 : 0;
  if (L == 0) throw std::invalid_argument("paired bootstrap: no segments");
  if (L > 0xFFFFFFFFull) throw std::invalid_argument("paired bootstrap: too many segments");
  // np.array(stats, dtype='float32')
  std::vector<std::vector<std::vector<float>>> fstats(metrics.size());
  for (std::size_t m = 0; m < metrics.size(); ++m) {
    const PairedBsMetric& pm = metrics[m];
    if (pm.stats.size() != S || pm.scores.size() != S) throw std::invalid_argument("paired bootstrap: system count");
    for (const auto& st : pm.stats) {
      if (st.size() != L * pm.width) throw std::invalid_argument("paired bootstrap: statistics size");
      fstats[m].emplace_back(st.begin(), st.end());
    }
  }

  // PairedTest.__init__: the baseline's CI, seeded with SACREBLEU_SEED (0 included).
  const std::vector<std::uint32_t> bl_entropy = seed ? numpy_compat::int_to_uint32_words(*seed) : random_entropy();
  // PairedTest.__call__: `seed = self._seed if self._seed else None` for every system.
  const bool sys_seeded = seed && *seed != 0;

  res.results.assign(metrics.size(), std::vector<PairedBsResult>(S));
  std::vector<std::vector<ScoreArray>> arrays(metrics.size(), std::vector<ScoreArray>(S));
  if (sys_seeded) {
    std::vector<std::size_t> all(S);
    for (std::size_t j = 0; j < S; ++j) all[j] = j;
    auto sc = resample_scores(metrics, fstats, all, n_samples, bl_entropy, L);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      for (std::size_t j = 0; j < S; ++j) arrays[m][j] = make_array(sc[m][j]);
    }
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      for (std::size_t j = 0; j < S; ++j) {
        PairedBsResult& r = res.results[m][j];
        r.score = metrics[m].scores[j];
        estimate_ci(arrays[m][j], r.mean, r.ci);
        r.f32 = arrays[m][j].f32;
        if (j > 0) {
          r.p_value = p_value(arrays[m][j], arrays[m][0], std::fabs(metrics[m].scores[0] - metrics[m].scores[j]));
        }
      }
    }
    return res;
  }
  // Unseeded systems: the baseline CI from its own stream, each comparison from a random one.
  {
    auto sc = resample_scores(metrics, fstats, {0}, n_samples, bl_entropy, L);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      PairedBsResult& r = res.results[m][0];
      const ScoreArray a = make_array(sc[m][0]);
      r.score = metrics[m].scores[0];
      estimate_ci(a, r.mean, r.ci);
      r.f32 = a.f32;
    }
  }
  for (std::size_t j = 1; j < S; ++j) {
    auto sc = resample_scores(metrics, fstats, {0, j}, n_samples, random_entropy(), L);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      PairedBsResult& r = res.results[m][j];
      const ScoreArray bl = make_array(sc[m][0]), sy = make_array(sc[m][1]);
      r.score = metrics[m].scores[j];
      estimate_ci(sy, r.mean, r.ci);
      r.f32 = sy.f32;
      r.p_value = p_value(sy, bl, std::fabs(metrics[m].scores[0] - metrics[m].scores[j]));
    }
  }
  return res;
}

}  // namespace gnmt
