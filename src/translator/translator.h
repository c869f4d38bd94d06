#pragma once
// Text in, text out: tokenises, sorts by length, batches, runs beam search (or greedy), restores the order.
// Exactly one output per input line; an empty (or all-whitespace) line gives an empty line. A line longer than
// `max_src_len` subwords (> 0; gnmt translate passes the checkpoint's data.max_len, the longest sentence it was
// trained on) is cut into the fewest pieces of near-equal length of at most max_src_len subwords each; the pieces
// are translated separately and their translations joined with a space.
#include <string>
#include <vector>

#include "config/config.h"
#include "data/tokenizer.h"
#include "models/model.h"

namespace gnmt {

class Translator {
 public:
  Translator(GnmtModel model, Tokenizer tokenizer, DecodingOptions options, torch::Device device,
             int64_t max_src_len = 0);

  std::vector<std::string> translate(const std::vector<std::string>& lines);
  // Source ids (no bos/eos) -> output ids (no eos). beam 1 in options means greedy.
  std::vector<std::vector<int64_t>> translate_ids(const std::vector<std::vector<int64_t>>& sources);

  const DecodingOptions& options() const { return options_; }

 private:
  GnmtModel model_;
  Tokenizer tokenizer_;
  DecodingOptions options_;
  torch::Device device_;
  int64_t max_src_len_;
};

}  // namespace gnmt
