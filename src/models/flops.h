#pragma once
// Floating-point operation counts of the GNMT model, from its shapes (multiply-add = 2 FLOPs). Used by
// `gnmt bench` to report model FLOPs utilisation against the machine's measured GEMM rate.
#include <cstdint>

#include "config/config.h"

namespace gnmt {

// Forward FLOPs of one teacher-forced batch: B sentences, S source and T target positions (padded).
// Counts the LSTM gate GEMMs, the attention projections, scores and context, and the output projection.
double forward_flops(const ModelOptions& model, int64_t vocab, int64_t B, int64_t S, int64_t T);

// A training step: forward + backward (backward ~ 2x forward, the usual estimate).
inline double training_flops(const ModelOptions& model, int64_t vocab, int64_t B, int64_t S, int64_t T) {
  return 3.0 * forward_flops(model, vocab, B, S, T);
}

}  // namespace gnmt
