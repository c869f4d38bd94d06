#include "translator/beam_search.h"

#include <cmath>
#include <limits>

#include "data/tokenizer.h"

namespace gnmt {
namespace {

double length_penalty(int64_t length, double alpha) {
  return alpha == 0 ? 1.0 : std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

}  // namespace

int64_t max_output_length(int64_t src_len, double ratio) {
  return static_cast<int64_t>(std::floor(ratio * static_cast<double>(src_len))) + 10;
}

std::vector<Hypothesis> greedy_search(GnmtModel& model, const torch::Tensor& src, const torch::Tensor& lengths,
                                      double max_len_ratio) {
  torch::NoGradGuard no_grad;
  const int64_t B = src.size(1);
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(src.device());
  auto memory = model->encode(src, lengths);
  auto state = model->decoder->initial_state(memory);
  auto len_cpu = lengths.cpu();
  auto len_acc = len_cpu.accessor<int64_t, 1>();
  std::vector<int64_t> limit(B), active(B);  // active[row] = the sentence decoded in that batch row
  int64_t longest = 0;
  for (int64_t b = 0; b < B; ++b) {
    limit[b] = max_output_length(len_acc[b], max_len_ratio);
    longest = std::max(longest, limit[b]);
    active[b] = b;
  }
  std::vector<Hypothesis> out(B);
  auto prev = torch::full({B}, Tokenizer::kBos, long_opts);
  for (int64_t t = 0; t < longest && !active.empty(); ++t) {
    auto logp = model->step(prev, memory, state);
    auto [best, arg] = logp.max(-1);
    auto best_c = best.to(torch::kDouble).cpu();
    auto arg_c = arg.cpu();
    auto best_acc = best_c.accessor<double, 1>();
    auto arg_acc = arg_c.accessor<int64_t, 1>();
    std::vector<int64_t> keep_rows, keep_sentences;
    for (size_t row = 0; row < active.size(); ++row) {
      const int64_t b = active[row], tok = arg_acc[static_cast<int64_t>(row)];
      out[b].log_prob += best_acc[static_cast<int64_t>(row)];
      if (tok == Tokenizer::kEos) continue;
      out[b].tokens.push_back(tok);
      if (t + 1 >= limit[b]) continue;
      keep_rows.push_back(static_cast<int64_t>(row));
      keep_sentences.push_back(b);
    }
    // Finished sentences leave the batch; the rest keep their rows' memory and state.
    if (keep_rows.size() < active.size() && !keep_rows.empty()) {
      auto idx = torch::tensor(keep_rows, torch::kLong).to(src.device());
      memory = memory.index_select(idx);
      state = state.index_select(idx);
      arg = arg.index_select(0, idx);
    }
    prev = arg;
    active = std::move(keep_sentences);
  }
  for (auto& h : out) h.score = h.log_prob;
  return out;
}

std::vector<Hypothesis> beam_search(GnmtModel& model, const torch::Tensor& src, const torch::Tensor& lengths,
                                    const DecodingOptions& opt) {
  torch::NoGradGuard no_grad;
  const int64_t B = src.size(1), K = opt.beam;
  const auto device = src.device();
  const double inf = std::numeric_limits<double>::infinity();
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);

  auto memory0 = model->encode(src, lengths);
  auto len_cpu = lengths.cpu();

  // Active sentences and their beams, flattened as row = slot * K + k.
  std::vector<int64_t> active(B);
  for (int64_t b = 0; b < B; ++b) active[b] = b;
  auto expand = torch::arange(B, long_opts).repeat_interleave(K);
  Memory memory = memory0.index_select(expand);
  DecoderState state = model->decoder->initial_state(memory);
  auto prev = torch::full({B * K}, Tokenizer::kBos, long_opts);
  // Only beam 0 is live at the start, so the first expansion does not produce K copies of one word.
  std::vector<double> scores(B * K, -inf);
  for (int64_t b = 0; b < B; ++b) scores[b * K] = 0;
  std::vector<std::vector<int64_t>> history(B * K);

  std::vector<std::vector<Hypothesis>> finished(B);
  std::vector<int64_t> limit(B);
  int64_t longest = 0;
  for (int64_t b = 0; b < B; ++b) {
    limit[b] = max_output_length(len_cpu[b].item<int64_t>(), opt.max_len_ratio);
    longest = std::max(longest, limit[b]);
  }

  auto best_finished = [&](int64_t b) {
    double best = -inf;
    for (const auto& h : finished[b]) best = std::max(best, h.score);
    return best;
  };

  for (int64_t t = 0; t < longest && !active.empty(); ++t) {
    const int64_t A = static_cast<int64_t>(active.size());
    auto logp = model->step(prev, memory, state);                         // (A*K, V)
    const int64_t V = logp.size(1);
    auto base = torch::tensor(scores, torch::TensorOptions().dtype(torch::kDouble)).to(logp.dtype()).to(device);
    auto cand = (logp + base.unsqueeze(1)).view({A, K * V});
    auto [top_scores, top_ids] = cand.topk(std::min<int64_t>(2 * K, K * V), 1);
    top_scores = top_scores.to(torch::kDouble).cpu();
    top_ids = top_ids.cpu();
    // Coverage penalty of each parent beam, as if it ended here.
    torch::Tensor cp_cpu;
    if (opt.beta > 0) {
      auto cov = state.coverage.clamp(1e-10, 1.0).log().masked_fill(~memory.mask, 0.0).sum(1);
      cp_cpu = (cov * opt.beta).to(torch::kDouble).cpu();
    }
    auto ts = top_scores.accessor<double, 2>();
    auto ti = top_ids.accessor<int64_t, 2>();

    std::vector<int64_t> next_rows, next_tokens, keep_slots;
    std::vector<double> next_scores;
    std::vector<std::vector<int64_t>> next_history;
    for (int64_t a = 0; a < A; ++a) {
      const int64_t b = active[a];
      const int64_t length = t + 1;  // tokens including the one chosen now
      const bool at_limit = length >= limit[b];
      std::vector<int64_t> rows, toks;
      std::vector<double> sc;
      for (int64_t r = 0; r < top_ids.size(1) && static_cast<int64_t>(rows.size()) < K; ++r) {
        double s = ts[a][r];
        if (s == -inf) break;
        int64_t row = a * K + ti[a][r] / V, tok = ti[a][r] % V;
        if (tok == Tokenizer::kEos || at_limit) {
          if (r >= K && tok == Tokenizer::kEos) continue;  // only EOS within the top K ends a hypothesis
          Hypothesis h;
          h.tokens = history[row];
          if (tok != Tokenizer::kEos) h.tokens.push_back(tok);
          h.log_prob = s;
          h.score = s / length_penalty(length, opt.alpha) + (opt.beta > 0 ? cp_cpu[row].item<double>() : 0.0);
          finished[b].push_back(std::move(h));
          if (at_limit && static_cast<int64_t>(finished[b].size()) >= K) break;
          continue;
        }
        rows.push_back(row);
        toks.push_back(tok);
        sc.push_back(s);
      }
      // Done: K finished, the limit reached, or no live beam can beat the best finished one (log P only
      // falls, lp grows at most to lp(limit), and cp <= 0).
      bool done = at_limit || rows.empty() || static_cast<int64_t>(finished[b].size()) >= K;
      if (!done && !finished[b].empty()) {
        double bound = sc.front() / length_penalty(limit[b], opt.alpha);
        if (opt.alpha == 0) bound = sc.front();
        done = best_finished(b) >= bound;
      }
      if (done) continue;
      while (static_cast<int64_t>(rows.size()) < K) {  // pad with dead beams
        rows.push_back(rows.front());
        toks.push_back(toks.front());
        sc.push_back(-inf);
      }
      keep_slots.push_back(b);
      for (int64_t k = 0; k < K; ++k) {
        next_rows.push_back(rows[k]);
        next_tokens.push_back(toks[k]);
        next_scores.push_back(sc[k]);
        auto h = history[rows[k]];
        h.push_back(toks[k]);
        next_history.push_back(std::move(h));
      }
    }
    if (keep_slots.empty()) break;
    auto idx = torch::tensor(next_rows, torch::kLong).to(device);
    // The K rows of a sentence share its encoder memory, and beams only move within their sentence: the
    // memory changes only when a sentence leaves the batch (as slots keep their order, row a * K + k of the
    // kept slots).
    if (static_cast<int64_t>(keep_slots.size()) < A) memory = memory.index_select(idx);
    state = state.index_select(idx);
    prev = torch::tensor(next_tokens, torch::kLong).to(device);
    scores = std::move(next_scores);
    history = std::move(next_history);
    active = std::move(keep_slots);
  }

  std::vector<Hypothesis> out(B);
  for (int64_t b = 0; b < B; ++b) {
    const Hypothesis* best = nullptr;
    for (const auto& h : finished[b])
      if (!best || h.score > best->score) best = &h;
    if (best) out[b] = *best;
  }
  return out;
}

}  // namespace gnmt
