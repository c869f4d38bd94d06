#include "eval/references.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace gnmt {

int num_refs_of(const RefStreams& refs) {
  return static_cast<int>(refs.size());
}

int num_refs_of(const OptionalRefStreams& refs) {
  if (refs.empty()) return 0;
  std::size_t n = refs[0].size();
  for (const auto& s : refs) n = std::min(n, s.size());
  std::set<int> counts;
  for (std::size_t i = 0; i < n; ++i) {
    int c = 0;
    for (const auto& s : refs) c += s[i].has_value() ? 1 : 0;
    counts.insert(c);
  }
  if (counts.empty()) return 0;
  return counts.size() == 1 ? *counts.begin() : -1;
}

std::string nrefs_string(int num_refs) { return num_refs == -1 ? std::string("var") : std::to_string(num_refs); }

namespace detail {
void check_ref_streams(const char* metric, std::size_t num_hyps, std::size_t num_streams,
                       const std::vector<std::size_t>& stream_sizes) {
  if (num_streams == 0) throw std::invalid_argument(std::string(metric) + ": no reference stream given");
  for (std::size_t k = 0; k < stream_sizes.size(); ++k) {
    if (stream_sizes[k] != num_hyps) {
      throw std::invalid_argument(std::string(metric) + ": reference stream " + std::to_string(k) + " has " +
                                  std::to_string(stream_sizes[k]) + " sentences but there are " +
                                  std::to_string(num_hyps) + " hypotheses");
    }
  }
}
}  // namespace detail

}  // namespace gnmt
