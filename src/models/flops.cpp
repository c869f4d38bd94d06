#include "models/flops.h"

namespace gnmt {

double forward_flops(const ModelOptions& m, int64_t vocab, int64_t B, int64_t S, int64_t T) {
  const double H = static_cast<double>(m.hidden_size), E = static_cast<double>(m.emb_dim);
  const double b = static_cast<double>(B), s = static_cast<double>(S), t = static_cast<double>(T);
  auto lstm = [&](double steps, double in) { return 2.0 * steps * b * 4.0 * H * (in + H); };
  double f = 2.0 * lstm(s, E);                       // bidirectional bottom layer
  for (int64_t l = 2; l <= m.enc_layers; ++l) f += lstm(s, l == 2 ? 2 * H : H);
  f += lstm(t, E);                                   // decoder layer 1
  for (int64_t l = 2; l <= m.dec_layers; ++l) f += lstm(t, 2 * H);
  f += 2.0 * b * (s + t) * H * H;                    // key and query projections
  f += 2.0 * b * t * s * H * 2.0;                    // scores (v . tanh(q + k)) and the context
  f += 2.0 * b * t * H * static_cast<double>(vocab); // output projection
  return f;
}

}  // namespace gnmt
