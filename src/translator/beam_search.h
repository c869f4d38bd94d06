#pragma once
// Batched beam search with GNMT's scoring (Wu et al. 2016, eq. 14):
//   s(Y, X) = log P(Y|X) / lp(Y) + cp(X; Y),  lp(Y) = ((5 + |Y|) / 6)^alpha,
//   cp(X; Y) = beta * sum_i log(min(sum_j p_ij, 1)),
// where |Y| counts the end-of-sentence token and p_ij is the attention on source word i at step j.
// Beams live in (B*K) batched tensors; sentences that are done leave the batch.
#include <torch/torch.h>

#include <vector>

#include "config/config.h"
#include "models/model.h"

namespace gnmt {

struct Hypothesis {
  std::vector<int64_t> tokens;  // without bos/eos
  double score = 0;             // s(Y, X) above
  double log_prob = 0;          // log P(Y|X)
};

// src (S, B), lengths (B) on the model's device. Returns the best hypothesis of each sentence.
std::vector<Hypothesis> beam_search(GnmtModel& model, const torch::Tensor& src, const torch::Tensor& lengths,
                                    const DecodingOptions& options);

// Plain greedy decoding (argmax at each step), independent of beam_search: used for validation and to
// check that beam 1 equals greedy.
std::vector<Hypothesis> greedy_search(GnmtModel& model, const torch::Tensor& src, const torch::Tensor& lengths,
                                      double max_len_ratio);

// Output length limit for a source of `src_len` tokens.
int64_t max_output_length(int64_t src_len, double max_len_ratio);

}  // namespace gnmt
