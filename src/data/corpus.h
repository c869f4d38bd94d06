#pragma once
// Parallel corpora as subword ids, and token-based batches with length bucketing.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace gnmt {

struct CorpusStats {
  int64_t lines = 0;          // line pairs read
  int64_t empty = 0;          // pairs skipped because a side was empty
  int64_t too_long = 0;       // pairs skipped because a side exceeded max_len subwords
  int64_t src_tokens = 0;     // subword tokens kept, source side
  int64_t tgt_tokens = 0;     // subword tokens kept, target side
};

struct ParallelCorpus {
  std::vector<std::vector<int64_t>> src, tgt;   // aligned, without bos/eos
  CorpusStats stats;
  size_t size() const { return src.size(); }
};

// The lines of two aligned files, read once (UTF-8 checked; a BOM and CRLF endings are accepted).
struct ParallelText {
  std::vector<std::string> src, tgt;
};

// Reads both files; different line counts are an error naming both files and the first line where one
// ends. The trainer reads the corpus this way once, checks it before training SentencePiece on it, then
// encodes it.
ParallelText read_parallel_text(const std::string& src_path, const std::string& tgt_path);

// Encodes the pairs; max_len <= 0 keeps all, else pairs with a side longer than max_len subwords are skipped.
ParallelCorpus encode_parallel(const ParallelText& text, const Tokenizer& tok, int64_t max_len);

// read_parallel_text, then encode_parallel.
ParallelCorpus load_parallel(const std::string& src_path, const std::string& tgt_path, const Tokenizer& tok,
                             int64_t max_len);

// One batch, time-major as the LSTMs want it.
struct Batch {
  torch::Tensor src;          // (S, B) int64, padded with Tokenizer::kPad
  torch::Tensor src_lengths;  // (B) int64
  torch::Tensor tgt_in;       // (T, B) int64: bos y1 .. yn
  torch::Tensor tgt_out;      // (T, B) int64: y1 .. yn eos
  int64_t tgt_tokens = 0;     // non-pad target tokens (including eos)
  int64_t src_tokens = 0;     // non-pad source tokens
  Batch to(const torch::Device& device) const;
};

// Pads sentences [first, last) of `order` into a Batch.
Batch make_batch(const ParallelCorpus& corpus, const std::vector<size_t>& indices);

// Groups sentence indices into batches of at most `batch_tokens` padded tokens, counted as
// n * max(longest source, longest target + 1) as fairseq's max_tokens does. Sentences are sorted by length
// after a seeded shuffle (so equal-length ties differ per epoch) and the batch order is shuffled too.
// The same (seed, epoch) always yields the same batches: resume relies on it.
std::vector<std::vector<size_t>> make_batches(const ParallelCorpus& corpus, int64_t batch_tokens, uint64_t seed,
                                              int64_t epoch, bool shuffle = true);

}  // namespace gnmt
