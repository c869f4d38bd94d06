// Paired bootstrap resampling as sacreBLEU 2.6.0 does it (significance.py, `--paired-bs`), giving
// the same numbers: the resampling indices come from a C++ copy of the NumPy generator sacreBLEU
// uses (np.random.default_rng(seed): SeedSequence -> PCG64, Generator.choice with replacement =
// Lemire's bounded integers), and the resampled statistics and scores are computed in float32
// exactly where NumPy 2 (NEP 50 promotion rules) computes them in float32, with NumPy's pairwise
// summation for means. The seed comes from SACREBLEU_SEED (default 12345; "none" = random).
//
//   std::vector<gnmt::PairedBsMetric> metrics = ...;   // per-segment stats of every system
//   gnmt::PairedBsOutput r = gnmt::paired_bootstrap(metrics, 1000, gnmt::sacrebleu_seed_from_env());
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eval/bleu.h"
#include "eval/chrf.h"

namespace gnmt {

namespace numpy_compat {

__extension__ typedef unsigned __int128 u128;

// NumPy's SeedSequence(entropy).generate_state(n_words, uint32) for entropy given as 32-bit
// words (least significant first, as NumPy splits a Python int).
std::vector<std::uint32_t> seed_sequence_state(const std::vector<std::uint32_t>& entropy, std::size_t n_words);

// Python int -> SeedSequence entropy words (0 -> {0}).
std::vector<std::uint32_t> int_to_uint32_words(std::uint64_t n);

// NumPy's PCG64 bit generator (XSL-RR 128/64), seeded as np.random.default_rng(entropy) seeds it.
class Pcg64 {
 public:
  explicit Pcg64(const std::vector<std::uint32_t>& entropy);
  std::uint64_t next64();
  std::uint32_t next32();  // low half of a 64-bit output, then its high half (NumPy's buffering)
  u128 state() const { return state_; }
  u128 inc() const { return inc_; }

 private:
  void step();
  u128 state_ = 0, inc_ = 0;
  bool has_uint32_ = false;
  std::uint32_t uinteger_ = 0;
};

// Generator.integers(0, high) for 1 <= high <= 2^32 (Lemire's method, as NumPy's default).
std::uint32_t bounded_uint32(Pcg64& rng, std::uint64_t high);

// NumPy's pairwise summation (add.reduce of a contiguous 1-D array), float32 and float64.
float pairwise_sum(const float* a, std::size_t n);
double pairwise_sum(const double* a, std::size_t n);

}  // namespace numpy_compat

// A NumPy scalar as sacreBLEU's resampled scores are: float32 or float64 (Python float).
struct NpValue {
  double value = 0.0;  // the value (a float32 value when is_f32)
  bool is_f32 = false;
};

// sacreBLEU's metric._compute_score_from_stats(stats) on float32-summed statistics.
NpValue bleu_score_from_f32_stats(const BleuScorer& bleu, const float* stats);  // [sys, ref, correct.., total..]
NpValue chrf_score_from_f32_stats(const ChrfScorer& chrf, const float* stats);  // [hyp, ref, match] per order

// One metric of a paired test: per-segment statistics of every system (system 0 = baseline).
struct PairedBsMetric {
  std::string name;                                 // "BLEU", "chrF2", ...
  std::size_t width = 0;                            // statistics per segment (K)
  std::vector<std::vector<std::int64_t>> stats;     // [system][segment * K + k]
  std::vector<double> scores;                       // [system] the actual corpus score
  std::function<NpValue(const float*)> score_f32;   // score of float32-summed statistics
};

struct PairedBsResult {
  double score = 0.0;                 // actual corpus score
  std::optional<double> p_value;      // not for the baseline
  double mean = 0.0, ci = 0.0;        // bootstrap mean and 95% CI half-width
  bool f32 = false;                   // mean/ci are NumPy float32 values (chrF)
};

struct PairedBsOutput {
  std::vector<std::vector<PairedBsResult>> results;  // [metric][system]
};

// SACREBLEU_SEED as sacreBLEU reads it: unset -> 12345, "none" (any case) -> nullopt (random);
// throws std::invalid_argument for a value that is not a non-negative integer below 2^64.
std::optional<std::uint64_t> sacrebleu_seed_from_env();

// sacreBLEU's PairedTest(test_type='bs', n_samples) followed by its call: the baseline's CI from
// _bootstrap_resample (seeded with `seed`), each system's score/mean/CI/p-value from
// _paired_bs_test (seeded with `seed` unless it is 0 or unset, in which case the system's
// resamples are random, as in sacreBLEU). n_samples <= 0 means 1000.
PairedBsOutput paired_bootstrap(const std::vector<PairedBsMetric>& metrics, int n_samples,
                                std::optional<std::uint64_t> seed);

}  // namespace gnmt
