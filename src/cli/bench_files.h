#pragma once
// Plain files that `gnmt bench` shares with scripts/bench/reference_gnmt.py, so that both programs run on
// identical inputs (the same batches, the same test sentences, the same weights):
//
// Batches file (text): header lines "# section key=value ...", then per batch a line "batch N" followed by
// N lines "source ids<TAB>target ids" (subword ids without bos/eos, separated by spaces).
// Ids file (text): header lines, then one line of source ids per sentence (an empty line: empty sentence).
// Weights file (binary, little-endian): "GNMTW1\n", uint64 count, then per tensor: uint32 name length, the
// name, uint32 number of dimensions, int64 sizes, float32 values (row-major).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "data/corpus.h"

namespace gnmt {

// "# model k=v ...\n# training k=v ...\n# decoding k=v ...\n": the options a reference needs (bools as 1/0).
std::string options_header(const Config& config);

void write_batches(const std::string& path, const Config& config, const ParallelCorpus& corpus,
                   const std::vector<std::vector<size_t>>& batches);

// The sentences of a batches file and the batches as indices into them. gnmt::Error names the file and
// line on malformed input.
struct BatchFile {
  ParallelCorpus corpus;
  std::vector<std::vector<size_t>> batches;
};
BatchFile read_batches(const std::string& path);

void write_ids(const std::string& path, const Config& config, const std::vector<std::vector<int64_t>>& sentences);
std::vector<std::vector<int64_t>> read_ids(const std::string& path);

// All parameters of `module` by their names (float32, on the CPU).
void write_weights(const std::string& path, const torch::nn::Module& module);

}  // namespace gnmt
