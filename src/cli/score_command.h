// `gnmt score`: sacreBLEU 2.6.0's command line for BLEU and chrF on plain-text files, giving the
// same numbers and the same text/JSON output for the same arguments.
//
//   gnmt score REF [REF...] [-i HYP [HYP2...]] [--paired-bs [--paired-bs-n N]] [-m bleu chrf] [-tok 13a|intl|char|none] [-lc] [-s exp|floor|add-k|none]
//              [-sv V] [--max-ngram-order N] [-sl] [-nr N] [-cc N] [-cw N] [--chrf-beta N]
//              [--chrf-whitespace] [--chrf-lowercase] [--chrf-eps-smoothing] [-b] [-w N]
//              [-f json|text] [-sh] [--force] [-q]
//
// Several systems: `gnmt score REF -i BASELINE SYS2 [...]` prints sacreBLEU's multi-system table
// (text: tabulate's fancy_grid; JSON), and with --paired-bs [--paired-bs-n N] its paired bootstrap
// resampling test (eval/significance.h): per system the score, the bootstrap mean +- 95% CI and
// the p-value against the baseline (the first -i file), with the same numbers as sacreBLEU
// (SACREBLEU_SEED is honoured, default 12345).
//
// Differences from sacreBLEU's CLI (documented, deliberate): a hypothesis read from stdin is one
// system even if it contains tabs; no test-set download (-t/-l), TER, single-system confidence
// intervals (--confidence) or approximate randomization (--paired-ar); no colours and no
// progress messages on stderr; SACREBLEU_FORMAT is ignored; --max-ngram-order is an extension
// (sacreBLEU has it in the Python API only); input must be valid UTF-8 and a leading BOM is
// dropped. With --paired-bs -f json and chrF, sacreBLEU crashes (its chrF mean/CI are NumPy
// float32 values, which json.dumps rejects); gnmt prints those float32 values as JSON numbers.
#pragma once

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gnmt {

struct ScoreArgs {
  std::vector<std::string> refs;               // reference files (positional REF...)
  std::string input;                           // hypothesis file; empty = stdin (used when `inputs` is empty)
  std::vector<std::string> inputs;             // -i: one or more system files (the first is the baseline)
  bool paired_bs = false;                      // --paired-bs (alias -pbs)
  int paired_bs_n = 1000;                      // --paired-bs-n (alias -pbsn); <= 0 means 1000
  std::vector<std::string> metrics{"bleu"};    // -m: "bleu" and/or "chrf"
  std::string tokenize = "13a";                // -tok
  bool lowercase = false;                      // -lc (BLEU)
  std::string smooth_method = "exp";           // -s
  std::optional<double> smooth_value;          // -sv
  int max_ngram_order = 4;                     // --max-ngram-order (gnmt extension)
  bool force = false;                          // --force: no warning about tokenized-looking input
  bool sentence_level = false;                 // -sl
  int num_refs = 1;                            // -nr: tab-separated references in one file
  int chrf_char_order = 6;                     // -cc
  int chrf_word_order = 0;                     // -cw
  int chrf_beta = 2;                           // --chrf-beta
  bool chrf_whitespace = false;                // --chrf-whitespace
  bool chrf_lowercase = false;                 // --chrf-lowercase
  bool chrf_eps_smoothing = false;             // --chrf-eps-smoothing
  bool score_only = false;                     // -b
  int width = 1;                               // -w
  std::string format = "json";                 // -f (sacreBLEU's default is json)
  bool short_signature = false;                // -sh
  bool quiet = false;                          // -q: no warnings on stderr
};

// Runs the scorer; prints results to `out` and errors/warnings to `err`. Returns the exit code:
// 0 on success, 1 on errors (17 for a -nr field-count mismatch, as sacreBLEU).
int run_score(const ScoreArgs& args, std::ostream& out = std::cout, std::ostream& err = std::cerr);

// Registers the `score` subcommand on `app`; parsed options go to `args` (which must outlive
// parsing). If `exit_code` is given, the subcommand's callback runs run_score(args) after parsing
// and stores its result there; otherwise check `sub->parsed()` and call run_score yourself.
// Call normalize_sacrebleu_short_flags() on argv first so that -tok, -lc, -sl, ... work.
CLI::App* add_score_command(CLI::App& app, ScoreArgs& args, int* exit_code = nullptr);

// CLI11 only accepts one-letter single-dash option names, while sacreBLEU's CLI also has
// multi-letter ones. This rewrites, in the arguments that follow the first "score" argument (and
// precede a "--"), -tok -lc -sl -nr -sv -cc -cw -sh -pbs -pbsn to --tokenize --lowercase
// --sentence-level --num-refs --smooth-value --chrf-char-order --chrf-word-order --short
// --paired-bs --paired-bs-n (also "-tok=13a" forms).
// Everything else is passed through unchanged.
//
//   int main(int argc, char** argv) {
//     auto args = gnmt::normalize_sacrebleu_short_flags(argc, argv);
//     CLI::App app{"gnmt"};
//     gnmt::ScoreArgs score_args;
//     int rc = 0;
//     gnmt::add_score_command(app, score_args, &rc);
//     CLI11_PARSE(app, args.argc(), args.argv());
//     return rc;
//   }
class NormalizedArgv {
 public:
  explicit NormalizedArgv(std::vector<std::string> args);
  NormalizedArgv(const NormalizedArgv& other);
  NormalizedArgv& operator=(const NormalizedArgv& other);
  int argc() const { return static_cast<int>(args_.size()); }
  char** argv() { return ptrs_.data(); }
  const std::vector<std::string>& args() const { return args_; }

 private:
  void rebuild();
  std::vector<std::string> args_;
  std::vector<char*> ptrs_;
};

NormalizedArgv normalize_sacrebleu_short_flags(int argc, const char* const* argv);

}  // namespace gnmt
