#include "translator/translator.h"

#include <algorithm>
#include <numeric>

#include "translator/beam_search.h"

namespace gnmt {

Translator::Translator(GnmtModel model, Tokenizer tokenizer, DecodingOptions options, torch::Device device,
                       int64_t max_src_len)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options), device_(device),
      max_src_len_(max_src_len) {}

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
  // Line i becomes sources[first[i]] .. sources[first[i + 1] - 1]: one piece, or several for an overlong line.
  std::vector<std::vector<int64_t>> sources;
  std::vector<size_t> first;
  sources.reserve(lines.size());
  for (const auto& l : lines) {
    first.push_back(sources.size());
    auto ids = tokenizer_.encode(l);
    const size_t n = ids.size(), limit = static_cast<size_t>(max_src_len_);
    const size_t pieces = max_src_len_ > 0 && n > limit ? (n + limit - 1) / limit : 1;
    for (size_t k = 0; k < pieces; ++k)
      sources.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(k * n / pieces),
                           ids.begin() + static_cast<std::ptrdiff_t>((k + 1) * n / pieces));
  }
  first.push_back(sources.size());
  auto ids = translate_ids(sources);
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string text;
    for (size_t j = first[i]; j < first[i + 1]; ++j) {
      if (sources[j].empty()) continue;
      std::string piece = tokenizer_.decode(ids[j]);
      text += (text.empty() || piece.empty() ? "" : " ") + piece;
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace gnmt
