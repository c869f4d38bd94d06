#include "data/corpus.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.h"
#include "eval/text_io.h"

namespace gnmt {

ParallelText read_parallel_text(const std::string& src_path, const std::string& tgt_path) {
  ParallelText t{read_text_lines(src_path), read_text_lines(tgt_path)};
  if (t.src.size() != t.tgt.size())
    throw Error("corpus files differ in length: " + src_path + " has " + std::to_string(t.src.size()) +
                " lines, " + tgt_path + " has " + std::to_string(t.tgt.size()) + " (line " +
                std::to_string(std::min(t.src.size(), t.tgt.size()) + 1) + " has no partner)");
  return t;
}

ParallelCorpus encode_parallel(const ParallelText& text, const Tokenizer& tok, int64_t max_len) {
  ParallelCorpus c;
  c.stats.lines = static_cast<int64_t>(text.src.size());
  for (size_t i = 0; i < text.src.size(); ++i) {
    auto s = tok.encode(text.src[i]);
    auto t = tok.encode(text.tgt[i]);
    if (s.empty() || t.empty()) { ++c.stats.empty; continue; }
    if (max_len > 0 && (static_cast<int64_t>(s.size()) > max_len || static_cast<int64_t>(t.size()) > max_len)) {
      ++c.stats.too_long;
      continue;
    }
    c.stats.src_tokens += static_cast<int64_t>(s.size());
    c.stats.tgt_tokens += static_cast<int64_t>(t.size()) + 1;
    c.src.push_back(std::move(s));
    c.tgt.push_back(std::move(t));
  }
  return c;
}

ParallelCorpus load_parallel(const std::string& src_path, const std::string& tgt_path, const Tokenizer& tok,
                             int64_t max_len) {
  return encode_parallel(read_parallel_text(src_path, tgt_path), tok, max_len);
}

Batch Batch::to(const torch::Device& device) const {
  Batch b = *this;
  b.src = src.to(device, /*non_blocking=*/true);
  b.src_lengths = src_lengths.to(device, true);
  b.tgt_in = tgt_in.to(device, true);
  b.tgt_out = tgt_out.to(device, true);
  return b;
}

Batch make_batch(const ParallelCorpus& corpus, const std::vector<size_t>& indices) {
  const int64_t n = static_cast<int64_t>(indices.size());
  int64_t max_s = 0, max_t = 0;
  for (auto i : indices) {
    max_s = std::max<int64_t>(max_s, static_cast<int64_t>(corpus.src[i].size()));
    max_t = std::max<int64_t>(max_t, static_cast<int64_t>(corpus.tgt[i].size()) + 1);
  }
  Batch b;
  b.src = torch::full({max_s, n}, Tokenizer::kPad, torch::kLong);
  b.tgt_in = torch::full({max_t, n}, Tokenizer::kPad, torch::kLong);
  b.tgt_out = torch::full({max_t, n}, Tokenizer::kPad, torch::kLong);
  b.src_lengths = torch::empty({n}, torch::kLong);
  auto src = b.src.accessor<int64_t, 2>();
  auto tin = b.tgt_in.accessor<int64_t, 2>();
  auto tout = b.tgt_out.accessor<int64_t, 2>();
  auto len = b.src_lengths.accessor<int64_t, 1>();
  for (int64_t j = 0; j < n; ++j) {
    const auto& s = corpus.src[indices[j]];
    const auto& t = corpus.tgt[indices[j]];
    for (size_t k = 0; k < s.size(); ++k) src[k][j] = s[k];
    len[j] = static_cast<int64_t>(s.size());
    tin[0][j] = Tokenizer::kBos;
    for (size_t k = 0; k < t.size(); ++k) {
      tin[k + 1][j] = t[k];
      tout[k][j] = t[k];
    }
    tout[t.size()][j] = Tokenizer::kEos;
    b.src_tokens += static_cast<int64_t>(s.size());
    b.tgt_tokens += static_cast<int64_t>(t.size()) + 1;
  }
  return b;
}

std::vector<std::vector<size_t>> make_batches(const ParallelCorpus& corpus, int64_t batch_tokens, uint64_t seed,
                                              int64_t epoch, bool shuffle) {
  std::vector<size_t> order(corpus.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  if (shuffle) std::shuffle(order.begin(), order.end(), rng);
  auto key = [&](size_t i) { return std::make_pair(corpus.src[i].size(), corpus.tgt[i].size()); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> cur;
  size_t max_len = 0;
  for (auto i : order) {
    size_t len = std::max(corpus.src[i].size(), corpus.tgt[i].size() + 1);
    size_t new_max = std::max(max_len, len);
    if (!cur.empty() && static_cast<int64_t>(new_max * (cur.size() + 1)) > batch_tokens) {
      batches.push_back(std::move(cur));
      cur.clear();
      new_max = len;
    }
    cur.push_back(i);
    max_len = new_max;
  }
  if (!cur.empty()) batches.push_back(std::move(cur));
  if (shuffle) std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

}  // namespace gnmt
