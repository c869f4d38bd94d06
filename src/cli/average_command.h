#pragma once
// `gnmt average CKPT... --output OUT`: checkpoint averaging (the mean of the weights of several
// checkpoints of one run, usually the last few; typically worth a few tenths of BLEU).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gnmt {

void add_average_command(CLI::App& app, int* exit_code);

// Writes to `output` (atomically) a checkpoint whose weights are the element-wise mean of the inputs'
// weights: summed in float64 in the order given, divided by the count, rounded to the parameter's dtype.
// With `use_ema`, the inputs' EMA weights are averaged instead (a single input with use_ema exports its
// EMA weights as plain weights). The output takes config, tokenizer and training state from the input
// with the highest step, has no optimizer state (it is for translate/info, not --resume), and records the
// inputs in its validation history. Inputs of different model shapes or vocabularies are refused with a
// gnmt::Error saying what differs.
void average_checkpoints(const std::vector<std::string>& inputs, const std::string& output, bool use_ema = false);

}  // namespace gnmt
