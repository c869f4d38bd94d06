#include "cli/score_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/text_io.h"
#include "eval/unicode.h"

namespace gnmt {
namespace {

// sacreBLEU reads every line with `line.rstrip()` (all Unicode whitespace, '\r' included).
void rstrip_all(std::vector<std::string>& lines) {
  for (auto& l : lines) l.resize(unicode::rstrip(l).size());
}

// Python line.split(sep='\t', maxsplit=n)
std::vector<std::string> split_tabs(const std::string& line, int maxsplit) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (maxsplit < 0 || static_cast<int>(out.size()) < maxsplit) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string::npos) break;
    out.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  out.push_back(line.substr(start));
  return out;
}

// A metric as the CLI drives it.
struct CliMetric {
  std::string name;  // "BLEU" or "CHRF" (sacreBLEU sorts metrics by this name)
  std::unique_ptr<BleuScorer> bleu;
  std::unique_ptr<ChrfScorer> chrf;

  std::string sentence_line(const std::string& hyp, const std::vector<std::string>& refs, int width,
                            bool score_only, bool short_sig) const {
    const int nrefs = static_cast<int>(refs.size());
    if (bleu) return bleu->sentence_score(hyp, refs).format(width, score_only, bleu->signature(nrefs, short_sig));
    return chrf->sentence_score(hyp, refs).format(width, score_only, chrf->signature(nrefs, short_sig));
  }

  std::string corpus_result(const std::vector<std::string>& hyps, const RefStreams& refs, int width,
                            bool score_only, bool short_sig, bool json) const {
    const int nrefs = num_refs_of(refs);
    if (bleu) return bleu->corpus_score(hyps, refs).format(width, score_only, bleu->signature(nrefs, short_sig), json);
    return chrf->corpus_score(hyps, refs).format(width, score_only, chrf->signature(nrefs, short_sig), json);
  }
};

// sacreBLEU utils.print_single_results (single system), including its alignment quirks.
void print_single_results(const std::vector<std::string>& results, bool json, std::ostream& out) {
  if (json) {
    if (results.size() > 1) {
      out << "[\n";
      for (std::size_t i = 0; i < results.size(); ++i) out << results[i] << (i + 1 < results.size() ? ",\n" : "\n");
      out << "]\n";
    } else {
      out << results[0] << "\n";
    }
    return;
  }
  if (results.size() == 1) {
    out << results[0] << "\n";
    return;
  }
  std::vector<std::size_t> lens;
  for (const auto& line : results) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) {
      out << line << "\n";
    } else {
      lens.push_back(eq - 1);  // ASCII up to '=', so bytes == characters
    }
  }
  if (!lens.empty()) {
    const std::size_t w = *std::max_element(lens.begin(), lens.end());
    for (std::size_t i = 0; i < lens.size() && i < results.size(); ++i) {
      const std::string& line = results[i];
      const std::string left = line.substr(0, lens[i]);
      out << std::string(w > left.size() ? w - left.size() : 0, ' ') << left << line.substr(lens[i]) << "\n";
    }
  }
}

}  // namespace

int run_score(const ScoreArgs& args, std::ostream& out, std::ostream& err) {
  const std::string prog = "gnmt score: ";
  try {
    if (args.refs.empty()) {
      err << prog << "error: no reference file given\n";
      return 1;
    }
    // Unique metrics, sorted by upper-case name as sacreBLEU's dict + sorted().
    std::map<std::string, std::string> wanted;
    for (const auto& m : args.metrics) {
      std::string up = m;
      std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (up != "BLEU" && up != "CHRF") {
        err << prog << "error: unsupported metric '" << m << "' (expected bleu or chrf)\n";
        return 1;
      }
      wanted[up] = m;
    }
    if (wanted.empty()) {
      err << prog << "error: no metric given\n";
      return 1;
    }
    if (args.sentence_level && wanted.size() > 1) {
      err << prog << "error: only one metric can be used in sentence-level mode\n";
      return 1;
    }
    if (args.num_refs < 1) {
      err << prog << "error: --num-refs must be >= 1\n";
      return 1;
    }
    if (args.num_refs != 1 && args.refs.size() > 1) {
      err << prog << "error: --num-refs reads tab-separated references from a single file; "
          << "it cannot be combined with several reference files\n";
      return 1;
    }
    if (args.format != "json" && args.format != "text") {
      err << prog << "error: unknown format '" << args.format << "' (expected json or text)\n";
      return 1;
    }
    if (args.width < 0) {
      err << prog << "error: --width must be >= 0\n";
      return 1;
    }

    // Build the metrics first so that bad options fail before any file is read.
    std::vector<CliMetric> metrics;
    for (const auto& kv : wanted) {
      CliMetric cm;
      cm.name = kv.first;
      if (kv.first == "BLEU") {
        BleuOptions o;
        o.tokenize = args.tokenize;
        o.lowercase = args.lowercase;
        o.smooth_method = args.smooth_method;
        o.smooth_value = args.smooth_value;
        o.max_ngram_order = args.max_ngram_order;
        o.effective_order = args.sentence_level;  // as sacreBLEU's CLI does for -sl
        cm.bleu = std::make_unique<BleuScorer>(o);
      } else {
        ChrfOptions o;
        o.char_order = args.chrf_char_order;
        o.word_order = args.chrf_word_order;
        o.beta = args.chrf_beta;
        o.lowercase = args.chrf_lowercase;
        o.whitespace = args.chrf_whitespace;
        o.eps_smoothing = args.chrf_eps_smoothing;
        cm.chrf = std::make_unique<ChrfScorer>(o);
      }
      metrics.push_back(std::move(cm));
    }

    // References.
    const std::size_t n_streams = std::max<std::size_t>(args.refs.size(), static_cast<std::size_t>(args.num_refs));
    RefStreams refs(n_streams);
    for (std::size_t f = 0; f < args.refs.size(); ++f) {
      std::vector<std::string> lines = read_text_lines(args.refs[f]);
      rstrip_all(lines);
      if (args.num_refs == 1) {
        refs[f] = std::move(lines);
      } else {
        for (std::size_t i = 0; i < lines.size(); ++i) {
          std::vector<std::string> fields = split_tabs(lines[i], args.num_refs - 1);
          if (static_cast<int>(fields.size()) != args.num_refs) {
            err << prog << "error: " << args.refs[f] << ":" << (i + 1) << ": expected " << args.num_refs
                << " tab-separated references, but found " << fields.size() << "\n";
            return 17;
          }
          for (std::size_t k = 0; k < fields.size(); ++k) refs[k].push_back(std::move(fields[k]));
        }
      }
    }

    // Hypotheses.
    const std::string hyp_name = args.input.empty() ? std::string("<stdin>") : args.input;
    std::vector<std::string> hyps =
        args.input.empty() ? read_text_lines(std::cin, hyp_name) : read_text_lines(args.input);
    rstrip_all(hyps);
    if (hyps.empty()) {
      err << prog << "error: " << hyp_name << " contains no sentence\n";
      return 1;
    }
    for (std::size_t k = 0; k < refs.size(); ++k) {
      if (refs[k].size() != hyps.size()) {
        const std::string& ref_name = args.num_refs == 1 ? args.refs[k] : args.refs[0];
        err << prog << "error: hypothesis and reference line counts differ: " << hyp_name << " has "
            << hyps.size() << " lines, " << ref_name << " has " << refs[k].size()
            << (args.num_refs == 1 ? " lines" : " lines") << "\n";
        return 1;
      }
    }

    const bool json = args.format == "json";
    if (args.sentence_level) {
      const CliMetric& m = metrics[0];
      std::vector<std::string> seg(refs.size());
      for (std::size_t i = 0; i < hyps.size(); ++i) {
        for (std::size_t k = 0; k < refs.size(); ++k) seg[k] = refs[k][i];
        out << m.sentence_line(hyps[i], seg, args.width, args.score_only, args.short_signature) << "\n";
      }
      return 0;
    }

    std::vector<std::string> results;
    for (const CliMetric& m : metrics) {
      if (m.bleu && !args.force && !args.quiet) {
        std::size_t tok_count = 0;
        for (const auto& h : hyps) {
          if (h.size() >= 2 && h.compare(h.size() - 2, 2, " .") == 0) ++tok_count;
        }
        if (tok_count >= 100) {
          err << "sacreBLEU: That's 100 lines that end in a tokenized period ('.')\n"
              << "sacreBLEU: It looks like you forgot to detokenize your test data, which may hurt your score.\n"
              << "sacreBLEU: If you insist your data is detokenized, or don't care, you can suppress this "
                 "message with the `force` parameter.\n";
        }
      }
      results.push_back(m.corpus_result(hyps, refs, args.width, args.score_only, args.short_signature && !json, json));
    }
    print_single_results(results, json, out);
    out.flush();
    return 0;
  } catch (const std::exception& e) {
    err << prog << "error: " << e.what() << "\n";
    return 1;
  }
}

CLI::App* add_score_command(CLI::App& app, ScoreArgs& args, int* exit_code) {
  CLI::App* sub = app.add_subcommand(
      "score",
      "Score hypotheses against references with BLEU and/or chrF, exactly as sacreBLEU 2.6.0 "
      "(same numbers, signature and text/JSON output).");
  sub->add_option("refs", args.refs, "Reference file(s); several files give several references per sentence")
      ->required()
      ->type_name("REF");
  sub->add_option("-i,--input", args.input, "Hypothesis file (default: read standard input)")->type_name("HYP");
  sub->add_option("-m,--metrics", args.metrics, "Space-separated metrics to compute: bleu, chrf (default: bleu)")
      ->check(CLI::IsMember({"bleu", "chrf"}))
      ->expected(1, -1);
  sub->add_option("--tokenize", args.tokenize, "BLEU tokenizer: 13a (default), intl, char or none (alias -tok)")
      ->check(CLI::IsMember({"13a", "intl", "char", "none"}));
  sub->add_flag("--lowercase", args.lowercase, "BLEU: case-insensitive scoring (alias -lc)");
  sub->add_option("-s,--smooth-method", args.smooth_method, "BLEU smoothing: exp (default), floor, add-k or none")
      ->check(CLI::IsMember({"exp", "floor", "add-k", "none"}));
  sub->add_option_function<double>(
      "--smooth-value", [&args](const double& v) { args.smooth_value = v; },
      "BLEU smoothing value for floor and add-k (defaults: floor 0.1, add-k 1) (alias -sv)");
  sub->add_option("--max-ngram-order", args.max_ngram_order, "BLEU maximum n-gram order (default: 4; gnmt extension)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--force", args.force, "BLEU: do not warn about hypotheses that look tokenized");
  sub->add_flag("--sentence-level", args.sentence_level,
                "Print one score per sentence (BLEU then uses effective order) (alias -sl)");
  sub->add_option("--num-refs", args.num_refs,
                  "Read this many tab-separated references per line from a single reference file (alias -nr)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--chrf-char-order", args.chrf_char_order, "chrF character n-gram order (default: 6) (alias -cc)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--chrf-word-order", args.chrf_word_order,
                  "chrF word n-gram order (default: 0; 2 gives chrF++) (alias -cw)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--chrf-beta", args.chrf_beta, "chrF: importance of recall relative to precision (default: 2)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--chrf-whitespace", args.chrf_whitespace, "chrF: include whitespace in character n-grams");
  sub->add_flag("--chrf-lowercase", args.chrf_lowercase, "chrF: case-insensitive scoring");
  sub->add_flag("--chrf-eps-smoothing", args.chrf_eps_smoothing,
                "chrF: epsilon smoothing as chrF++.py, NLTK and Moses, instead of effective order");
  sub->add_flag("-b,--score-only", args.score_only, "Print only the score");
  sub->add_option("-w,--width", args.width, "Number of decimals of the score (default: 1)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("-f,--format", args.format, "Output format: json (default) or text")
      ->check(CLI::IsMember({"json", "text"}));
  sub->add_flag("--short", args.short_signature, "Abbreviated signature (text output only) (alias -sh)");
  sub->add_flag("-q,--quiet", args.quiet, "Do not print warnings");
  if (exit_code != nullptr) {
    sub->callback([&args, exit_code]() { *exit_code = run_score(args); });
  }
  return sub;
}

// ---------------------------------------------------------------------------------------------
NormalizedArgv::NormalizedArgv(std::vector<std::string> args) : args_(std::move(args)) { rebuild(); }
NormalizedArgv::NormalizedArgv(const NormalizedArgv& other) : args_(other.args_) { rebuild(); }
NormalizedArgv& NormalizedArgv::operator=(const NormalizedArgv& other) {
  if (this != &other) {
    args_ = other.args_;
    rebuild();
  }
  return *this;
}
void NormalizedArgv::rebuild() {
  ptrs_.clear();
  for (auto& a : args_) ptrs_.push_back(a.data());
  ptrs_.push_back(nullptr);
}

NormalizedArgv normalize_sacrebleu_short_flags(int argc, const char* const* argv) {
  static const std::map<std::string, std::string> kLong = {
      {"-tok", "--tokenize"},      {"-lc", "--lowercase"},        {"-sl", "--sentence-level"},
      {"-nr", "--num-refs"},       {"-sv", "--smooth-value"},     {"-cc", "--chrf-char-order"},
      {"-cw", "--chrf-word-order"}, {"-sh", "--short"},
  };
  std::vector<std::string> out;
  bool in_score = false;
  bool done = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i] ? argv[i] : "";
    if (i > 0 && !in_score && a == "score") {
      in_score = true;
    } else if (in_score && !done) {
      if (a == "--") {
        done = true;
      } else {
        const std::size_t eq = a.find('=');
        const std::string key = a.substr(0, eq);
        auto it = kLong.find(key);
        if (it != kLong.end()) a = it->second + (eq == std::string::npos ? std::string() : a.substr(eq));
      }
    }
    out.push_back(std::move(a));
  }
  return NormalizedArgv(std::move(out));
}

}  // namespace gnmt
