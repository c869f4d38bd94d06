#pragma once
// Levenshtein distance and the "did you mean" hint built on it, for config keys, command names and options.
// Header-only and torch-free: the config loader, the CLI shell and the fuzz targets all use it.
#include <algorithm>
#include <string>
#include <vector>

namespace gnmt {

inline size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The entry of `valid` nearest to `word` when it is close (at most max(2, |word| / 3) edits), else "".
inline std::string nearest(const std::string& word, const std::vector<std::string>& valid) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& v : valid) {
    size_t d = edit_distance(word, v);
    if (d < best_d) { best_d = d; best = v; }
  }
  return !best.empty() && best_d <= std::max<size_t>(2, word.size() / 3) ? best : std::string();
}

// " (did you mean 'x'?)" for the nearest of `valid` when it is close to `word`, else " (valid WHAT: a, b, c)".
inline std::string did_you_mean(const std::string& word, const std::vector<std::string>& valid, const std::string& what) {
  if (const std::string best = nearest(word, valid); !best.empty()) return " (did you mean '" + best + "'?)";
  std::string all;
  for (const auto& v : valid) all += (all.empty() ? "" : ", ") + v;
  return " (valid " + what + ": " + all + ")";
}

}  // namespace gnmt
