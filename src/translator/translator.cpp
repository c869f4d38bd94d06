#include "translator/translator.h"

#include <algorithm>
#include <numeric>

#include "translator/beam_search.h"

namespace gnmt {

Translator::Translator(GnmtModel model, Tokenizer tokenizer, DecodingOptions options, torch::Device device)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options), device_(device) {}

std::vector<std::vector<int64_t>> Translator::translate_ids(const std::vector<std::vector<int64_t>>& sources) {
  torch::NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  std::vector<std::vector<int64_t>> out(sources.size());
  std::vector<size_t> order;
  for (size_t i = 0; i < sources.size(); ++i)
    if (!sources[i].empty()) order.push_back(i);
  // Longest first: similar lengths share a batch and the largest batch runs first.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sources[a].size() > sources[b].size(); });
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(options_.batch_size)) {
    size_t end = std::min(order.size(), start + static_cast<size_t>(options_.batch_size));
    const int64_t n = static_cast<int64_t>(end - start);
    const int64_t S = static_cast<int64_t>(sources[order[start]].size());
    auto src = torch::zeros({S, n}, torch::kLong);
    auto len = torch::empty({n}, torch::kLong);
    auto s_acc = src.accessor<int64_t, 2>();
    auto l_acc = len.accessor<int64_t, 1>();
    for (int64_t j = 0; j < n; ++j) {
      const auto& s = sources[order[start + j]];
      for (size_t k = 0; k < s.size(); ++k) s_acc[k][j] = s[k];
      l_acc[j] = static_cast<int64_t>(s.size());
    }
    src = src.to(device_);
    len = len.to(device_);
    auto hyps = options_.beam == 1 ? greedy_search(model_, src, len, options_.max_len_ratio)
                                   : beam_search(model_, src, len, options_);
    for (int64_t j = 0; j < n; ++j) out[order[start + j]] = std::move(hyps[j].tokens);
  }
  if (was_training) model_->train();
  return out;
}

std::vector<std::string> Translator::translate(const std::vector<std::string>& lines) {
  std::vector<std::vector<int64_t>> sources;
  sources.reserve(lines.size());
  for (const auto& l : lines) sources.push_back(tokenizer_.encode(l));
  auto ids = translate_ids(sources);
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < ids.size(); ++i) out.push_back(sources[i].empty() ? std::string() : tokenizer_.decode(ids[i]));
  return out;
}

}  // namespace gnmt
