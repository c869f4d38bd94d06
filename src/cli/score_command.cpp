#include "cli/score_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>

#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/score_format.h"
#include "eval/significance.h"
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

  std::string score_name() const { return bleu ? std::string("BLEU") : chrf->compute(chrf->empty_stats()).name(); }
  std::string signature(int nrefs, bool short_sig) const {
    return bleu ? bleu->signature(nrefs, short_sig) : chrf->signature(nrefs, short_sig);
  }
  double corpus_value(const std::vector<std::string>& hyps, const RefStreams& refs) const {
    return bleu ? bleu->corpus_score(hyps, refs).score : chrf->corpus_score(hyps, refs).score;
  }
  // sacreBLEU's _extract_corpus_statistics, flattened: segment i's K statistics at [i*K, (i+1)*K).
  std::size_t stats_width() const {
    return bleu ? static_cast<std::size_t>(2 + 2 * bleu->options().max_ngram_order)
                : chrf->empty_stats().values.size();
  }
  std::vector<std::int64_t> segment_stats(const std::vector<std::string>& hyps, const RefStreams& refs) const {
    std::vector<std::int64_t> flat;
    flat.reserve(hyps.size() * stats_width());
    if (bleu) {
      for (const BleuStats& st : bleu->segment_stats_all(hyps, refs)) {
        const std::vector<std::int64_t> v = st.flat();
        flat.insert(flat.end(), v.begin(), v.end());
      }
    } else {
      for (const ChrfStats& st : chrf->segment_stats_all(hyps, refs)) {
        flat.insert(flat.end(), st.values.begin(), st.values.end());
      }
    }
    return flat;
  }
  std::function<NpValue(const float*)> f32_scorer() const {
    if (bleu) {
      const BleuScorer* b = bleu.get();
      return [b](const float* st) { return bleu_score_from_f32_stats(*b, st); };
    }
    const ChrfScorer* c = chrf.get();
    return [c](const float* st) { return chrf_score_from_f32_stats(*c, st); };
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


// Number of code points (tabulate's width without wcwidth).
std::size_t text_width(const std::string& s) { return unicode::code_point_count(s); }

// Python str.split('\n')
std::vector<std::string> split_newlines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = s.find('\n', start);
    if (nl == std::string::npos) break;
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

// Python f"{s:>{w}}" / f"{s:^{w}}"
std::string pad_right_align(const std::string& s, std::size_t w) {
  const std::size_t n = text_width(s);
  return n >= w ? s : std::string(w - n, ' ') + s;
}
std::string pad_center(const std::string& s, std::size_t w) {
  const std::size_t n = text_width(s);
  if (n >= w) return s;
  const std::size_t left = (w - n) / 2;
  return std::string(left, ' ') + s + std::string(w - n - left, ' ');
}

std::string repeat(const char* s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// tabulate(columns, headers='keys', tablefmt='fancy_grid', colalign=('right',), stralign='center')
// for string cells (possibly multi-line); the first column is right-aligned, the others centred.
std::string fancy_grid(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& cols) {
  const std::size_t C = headers.size(), R = cols.empty() ? 0 : cols[0].size();
  std::vector<std::size_t> w(C);
  std::vector<std::vector<std::vector<std::string>>> cells(C);  // [col][row][line]
  for (std::size_t c = 0; c < C; ++c) {
    w[c] = text_width(headers[c]) + 2;  // tabulate's MIN_PADDING
    for (std::size_t r = 0; r < R; ++r) {
      cells[c].push_back(split_newlines(cols[c][r]));
      for (const auto& line : cells[c].back()) w[c] = std::max(w[c], text_width(line));
    }
  }
  auto align = [&](std::size_t c, const std::string& s) { return c == 0 ? pad_right_align(s, w[c]) : pad_center(s, w[c]); };
  auto rule = [&](const char* l, const char* fill, const char* mid, const char* r) {
    std::string line = l;
    for (std::size_t c = 0; c < C; ++c) {
      if (c) line += mid;
      line += repeat(fill, w[c] + 2);
    }
    return line + r + "\n";
  };
  std::string out = rule("╒", "═", "╤", "╕");
  std::string hl = "│";
  for (std::size_t c = 0; c < C; ++c) hl += " " + align(c, headers[c]) + " │";
  out += hl + "\n";
  out += rule("╞", "═", "╪", "╡");
  for (std::size_t r = 0; r < R; ++r) {
    std::size_t nlines = 1;
    for (std::size_t c = 0; c < C; ++c) nlines = std::max(nlines, cells[c][r].size());
    for (std::size_t k = 0; k < nlines; ++k) {
      std::string line = "│";
      for (std::size_t c = 0; c < C; ++c) {
        const std::string cell = k < cells[c][r].size() ? cells[c][r][k] : std::string();
        line += " " + align(c, cell) + " │";
      }
      out += line + "\n";
    }
    out += r + 1 < R ? rule("├", "─", "┼", "┤") : rule("╘", "═", "╧", "╛");
  }
  return out;
}

// json.dumps(str) with ensure_ascii=True
std::string json_quote_ascii(const std::string& s) {
  std::string out = "\"";
  std::u32string cps;
  unicode::decode_utf8(s, cps);
  char buf[16];
  for (const char32_t c : cps) {
    switch (c) {
      case U'"': out += "\\\""; break;
      case U'\\': out += "\\\\"; break;
      case U'\b': out += "\\b"; break;
      case U'\f': out += "\\f"; break;
      case U'\n': out += "\\n"; break;
      case U'\r': out += "\\r"; break;
      case U'\t': out += "\\t"; break;
      default:
        if (c < 0x20 || (c >= 0x7F && c < 0x10000)) {
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else if (c >= 0x10000) {
          const unsigned v = static_cast<unsigned>(c) - 0x10000;
          std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

// Signature with the paired test's fields: nrefs, bs, seed (rs), then the rest.
std::string paired_signature(const std::string& sig, int n, const std::string& seed, bool short_form) {
  const std::size_t bar = sig.find('|');
  const std::string extra = std::string("|bs:") + std::to_string(n) + (short_form ? "|rs:" : "|seed:") + seed;
  if (bar == std::string::npos) return sig + extra;
  return sig.substr(0, bar) + extra + sig.substr(bar);
}

// Several systems (sacreBLEU's multi-system mode): a table of scores, or the paired bootstrap test.
int run_multi(const ScoreArgs& args, const std::vector<std::string>& inputs, const std::vector<CliMetric>& metrics,
              const std::vector<std::size_t>& arg_order, const RefStreams& refs, std::ostream& out, std::ostream& err) {
  const std::string prog = "gnmt score: ";
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> systems;
  for (const std::string& fname : inputs) {
    if (std::find(names.begin(), names.end(), fname) != names.end()) {
      if (args.paired_bs && fname == names[0]) continue;  // the baseline given again: ignored, as sacreBLEU
      err << prog << "error: '" << fname << "' already used to name a system\n";
      return 1;
    }
    std::vector<std::string> lines = read_text_lines(fname);
    rstrip_all(lines);
    if (lines.empty()) {
      err << prog << "error: " << fname << " contains no sentence\n";
      return 1;
    }
    for (std::size_t k = 0; k < refs.size(); ++k) {
      if (refs[k].size() != lines.size()) {
        const std::string& ref_name = args.num_refs == 1 ? args.refs[k] : args.refs[0];
        err << prog << "error: hypothesis and reference line counts differ: " << fname << " has " << lines.size()
            << " lines, " << ref_name << " has " << refs[k].size() << " lines\n";
        return 1;
      }
    }
    names.push_back(fname);
    systems.push_back(std::move(lines));
  }
  if (args.paired_bs && systems.size() < 2) {
    err << prog << "error: paired tests require multiple input systems given to -i\n";
    return 1;
  }
  if (args.paired_bs) names[0] = "Baseline: " + names[0];
  const bool json = args.format == "json";
  const int nrefs = num_refs_of(refs);

  std::vector<std::string> headers{"System"};
  std::vector<std::vector<std::string>> cols{names};
  std::vector<std::pair<std::string, std::string>> sigs;  // metric name -> signature (text output)
  std::vector<std::string> json_keys;
  std::vector<std::vector<std::string>> json_vals;  // [metric][system] encoded JSON value

  if (!args.paired_bs) {
    // for each system, for each metric sorted by name
    for (const CliMetric& m : metrics) {
      const std::string name = m.score_name();
      headers.push_back(name);
      json_keys.push_back(name);
      cols.emplace_back();
      json_vals.emplace_back();
      for (const auto& hyps : systems) {
        const std::string v = format_fixed(m.corpus_value(hyps, refs), args.width);
        cols.back().push_back(v);
        json_vals.back().push_back(json_quote_ascii(v));
      }
      sigs.emplace_back(name, m.signature(nrefs, args.short_signature));
    }
  } else {
    const int n = args.paired_bs_n > 0 ? args.paired_bs_n : 1000;
    const std::optional<std::uint64_t> seed = sacrebleu_seed_from_env();
    const std::string seed_str = seed ? std::to_string(*seed) : std::string("none");
    std::vector<PairedBsMetric> pms;
    for (const std::size_t mi : arg_order) {
      const CliMetric& m = metrics[mi];
      PairedBsMetric pm;
      pm.name = m.score_name();
      pm.width = m.stats_width();
      pm.score_f32 = m.f32_scorer();
      for (const auto& hyps : systems) {
        pm.stats.push_back(m.segment_stats(hyps, refs));
        pm.scores.push_back(m.corpus_value(hyps, refs));
      }
      sigs.emplace_back(pm.name, paired_signature(m.signature(nrefs, args.short_signature), n, seed_str,
                                                  args.short_signature));
      pms.push_back(std::move(pm));
    }
    const PairedBsOutput res = paired_bootstrap(pms, n, seed);
    for (std::size_t k = 0; k < pms.size(); ++k) {
      headers.push_back(pms[k].name + " (μ ± 95% CI)");
      json_keys.push_back(pms[k].name);
      cols.emplace_back();
      json_vals.emplace_back();
      for (const PairedBsResult& r : res.results[k]) {
        std::string cell = format_fixed(r.score, args.width) + " (" + format_fixed(r.mean, args.width) + " ± " +
                           format_fixed(r.ci, args.width) + ")";
        if (r.p_value) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "(p = %.4f)", *r.p_value);
          cell += std::string("\n") + buf + (*r.p_value > 0.05 ? "" : "*");
        }
        cols.back().push_back(cell);
        const std::string pv = r.p_value ? python_float_repr(*r.p_value) : std::string("null");
        json_vals.back().push_back("{\n            \"score\": " + python_float_repr(r.score) +
                                   ",\n            \"p_value\": " + pv + ",\n            \"mean\": " +
                                   python_float_repr(r.mean) + ",\n            \"ci\": " + python_float_repr(r.ci) +
                                   "\n        }");
      }
    }
  }

  if (json) {
    out << "[\n";
    for (std::size_t j = 0; j < names.size(); ++j) {
      out << "    {\n        \"system\": " << json_quote_ascii(names[j]);
      for (std::size_t k = 0; k < json_keys.size(); ++k) {
        out << ",\n        " << json_quote_ascii(json_keys[k]) << ": " << json_vals[k][j];
      }
      out << "\n    }" << (j + 1 < names.size() ? "," : "") << "\n";
    }
    out << "]\n";
    out.flush();
    return 0;
  }
  out << fancy_grid(headers, cols) << "\n";
  if (args.paired_bs) {
    const std::string msg = "Paired bootstrap resampling test with " + std::to_string(args.paired_bs_n) +
                            " resampling trials";
    const std::string dash(msg.size(), '-');
    out << dash << "\n" << msg << "\n" << dash << "\n"
        << " - Each system is pairwise compared to " << names[0] << ".\n"
        << "   Actual system score / bootstrap estimated true mean / 95% CI are provided for each metric.\n\n"
        << " - Null hypothesis: the system and the baseline translations are essentially\n"
        << "   generated by the same underlying process. For a given system and the baseline,\n"
        << "   the p-value is roughly the probability of the absolute score difference (delta)\n"
        << "   or higher occurring due to chance, under the assumption that the null hypothesis is correct.\n\n"
        << " - Assuming a significance threshold of 0.05, the null hypothesis can be rejected\n"
        << "   for p-values < 0.05 (marked with \"*\"). This means that the delta is unlikely to be attributed\n"
        << "   to chance, hence the system is significantly \"different\" than the baseline.\n"
        << "   Otherwise, the p-values are highlighted in red.\n\n"
        << " - NOTE: Significance does not tell whether a system is \"better\" than the baseline but rather\n"
        << "   emphasizes the \"difference\" of the systems in terms of the replicability of the delta.\n\n";
  }
  out << "-----------------\nMetric signatures\n-----------------\n";
  for (const auto& kv : sigs) {
    std::string name = kv.first;
    if (text_width(name) < 10) name += std::string(10 - text_width(name), ' ');
    out << " - " << name << " " << kv.second << "\n";
  }
  out.flush();
  return 0;
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
    std::vector<std::string> arg_names;  // upper-case names in command-line order (paired tests use it)
    for (const auto& m : args.metrics) {
      std::string up = m;
      std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (up != "BLEU" && up != "CHRF") {
        err << prog << "error: unsupported metric '" << m << "' (expected bleu or chrf)\n";
        return 1;
      }
      wanted[up] = m;
      if (std::find(arg_names.begin(), arg_names.end(), up) == arg_names.end()) arg_names.push_back(up);
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

    std::vector<std::string> inputs = args.inputs;
    if (inputs.empty() && !args.input.empty()) inputs.push_back(args.input);
    // One hypothesis file: read it on a second thread while the references are read (its errors
    // still come after theirs: get() below rethrows them).
    std::future<std::vector<std::string>> pending_hyps;
    if (inputs.size() == 1 && !args.paired_bs) {
      pending_hyps = std::async(std::launch::async, [file = inputs[0]] {
        std::vector<std::string> lines = read_text_lines(file);
        rstrip_all(lines);
        return lines;
      });
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

    if (args.paired_bs || inputs.size() > 1) {
      if (args.sentence_level) {
        err << prog << "error: "
            << (args.paired_bs ? "statistical tests are unavailable in sentence-level mode"
                               : "only one system can be evaluated in sentence-level mode")
            << "\n";
        return 1;
      }
      std::vector<std::size_t> order;
      for (const auto& up : arg_names) {
        for (std::size_t i = 0; i < metrics.size(); ++i) {
          if (metrics[i].name == up) order.push_back(i);
        }
      }
      return run_multi(args, inputs, metrics, order, refs, out, err);
    }

    // Hypotheses.
    const std::string hyp_name = inputs.empty() ? std::string("<stdin>") : inputs[0];
    std::vector<std::string> hyps;
    if (pending_hyps.valid()) {
      hyps = pending_hyps.get();
    } else {
      hyps = read_text_lines(std::cin, hyp_name);
      rstrip_all(hyps);
    }
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
  sub->add_option("-i,--input", args.inputs,
                  "Hypothesis file(s) (default: read standard input); several files are several systems, "
                  "the first being the baseline of paired tests")
      ->type_name("HYP")
      ->expected(1, -1);
  sub->add_flag("--paired-bs", args.paired_bs,
                "Paired bootstrap resampling test of each system against the baseline (first -i file), "
                "as sacreBLEU --paired-bs (alias -pbs)");
  sub->add_option("--paired-bs-n", args.paired_bs_n,
                  "Number of bootstrap resamples for --paired-bs (default: 1000) (alias -pbsn)");
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
      {"-cw", "--chrf-word-order"}, {"-sh", "--short"},         {"-pbs", "--paired-bs"},
      {"-pbsn", "--paired-bs-n"},
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
