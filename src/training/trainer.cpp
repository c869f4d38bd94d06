#include "training/trainer.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <limits>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <optional>
#include <regex>
#include <unistd.h>

#include "common/device.h"
#include "common/error.h"
#include "common/fs.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "eval/bleu.h"
#include "eval/text_io.h"
#include "models/model.h"
#include "training/checkpoint.h"
#include "training/numerics.h"
#include "translator/translator.h"

namespace gnmt {
namespace fs = std::filesystem;

namespace {

std::atomic<int> g_signals{0};

void on_signal(int) {
  if (g_signals.fetch_add(1) >= 1) _exit(128 + SIGTERM);  // second signal: leave at once
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string fmt_duration(double seconds) {
  auto s = static_cast<int64_t>(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// Links `target` to `link_name` atomically (hard link to a temporary name, then rename).
void link_atomically(const std::string& target, const std::string& link_name) {
  std::string tmp = link_name + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(target, tmp, ec);
  if (ec) { fs::copy_file(target, tmp, fs::copy_options::overwrite_existing); }
  fs::rename(tmp, link_name);
}

struct Validation {
  double xent = 0;   // per target token, no label smoothing
  double bleu = -1;  // greedy, on the first valid_bleu_lines lines
};

Validation validate_model(GnmtModel& model, const ParallelCorpus& valid, const std::vector<std::string>& valid_src_text,
                          const std::vector<std::string>& valid_ref_text, const Tokenizer& tok, const Config& cfg,
                          const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model->eval();
  Validation v;
  double loss = 0;
  int64_t tokens = 0;
  for (const auto& idx : make_batches(valid, cfg.training.batch_tokens, 0, 0, /*shuffle=*/false)) {
    auto b = make_batch(valid, idx).to(device);
    auto logits = model(b.src, b.src_lengths, b.tgt_in);
    loss += smoothed_loss(logits, b.tgt_out, 0.0).item<double>();
    tokens += b.tgt_tokens;
  }
  v.xent = tokens ? loss / static_cast<double>(tokens) : 0;
  int64_t n = std::min<int64_t>(cfg.training.valid_bleu_lines, static_cast<int64_t>(valid_src_text.size()));
  if (n > 0) {
    DecodingOptions greedy = cfg.decoding;
    greedy.beam = 1;
    Translator translator(model, tok, greedy, device);
    std::vector<std::string> src(valid_src_text.begin(), valid_src_text.begin() + n);
    std::vector<std::string> ref(valid_ref_text.begin(), valid_ref_text.begin() + n);
    v.bleu = BleuScorer().corpus_score(translator.translate(src), RefStreams{ref}).score;
  }
  model->train();
  return v;
}

}  // namespace

double learning_rate(const TrainingOptions& o, int64_t step) {
  double s = static_cast<double>(std::max<int64_t>(step, 1));
  double w = static_cast<double>(o.warmup_steps);
  if (o.warmup_steps > 0 && s < w) return o.lr * s / w;
  if (o.decay == "rsqrt" && o.warmup_steps > 0) return o.lr * std::sqrt(w / s);
  return o.lr;
}

int train(const TrainArgs& args) {
  Config cfg = args.config;
  const auto& T = cfg.training;
  if (cfg.data.train_src.empty()) throw Error("config key 'data.train_src': required for training");
  require_readable_file(cfg.data.train_src, "data.train_src");
  require_readable_file(cfg.data.train_tgt, "data.train_tgt");
  if (!cfg.data.valid_src.empty()) {
    require_readable_file(cfg.data.valid_src, "data.valid_src");
    require_readable_file(cfg.data.valid_tgt, "data.valid_tgt");
  }
  const torch::Device device = resolve_device(cfg.device);
  const int threads = configure_threads(T.threads);
  torch::manual_seed(static_cast<uint64_t>(T.seed));

  // Run directory: checked before any work is done, and not created for a --resume that cannot happen.
  const std::string last_path = cfg.run_dir + "/last.pt";
  if (args.resume && !fs::exists(last_path))
    throw Error("--resume: no checkpoint to resume from at " + last_path);
  if (!args.resume && fs::exists(last_path))
    throw Error("run_dir " + cfg.run_dir + " already holds a training run (" + last_path +
                "); pass --resume to continue it or choose another run_dir");
  std::optional<Checkpoint> resumed;
  if (args.resume) {  // refuse another model shape before spending time on the data
    resumed = load_checkpoint(last_path, device);
    auto model_yaml = [](const Config& c) { Config only; only.model = c.model; return dump_config(only); };
    if (model_yaml(resumed->config) != model_yaml(cfg)) {
      std::string what;
      for (const auto& d : diff_configs(resumed->config, cfg))
        if (d.rfind("model.", 0) == 0) what += (what.empty() ? "" : "; ") + d;
      throw Error("--resume: " + last_path + " holds a different model: " + what);
    }
  }
  std::error_code ec;
  fs::create_directories(cfg.run_dir, ec);
  if (ec || access(cfg.run_dir.c_str(), W_OK) != 0)
    throw Error("run_dir " + cfg.run_dir + ": cannot create or write to it" + (ec ? ": " + ec.message() : ""));
  // Temporary files of an earlier run killed while saving (kill -9, power loss): never valid, remove them.
  {
    static const std::regex tmp_re("(\\.ckpt-[0-9]+\\.pt|\\.config\\.yaml|(last|best)\\.pt)\\.tmp\\.[0-9]+");
    for (const auto& e : fs::directory_iterator(cfg.run_dir, ec)) {
      auto name = e.path().filename().string();
      if (std::regex_match(name, tmp_re) && fs::remove(e.path(), ec)) spdlog::info("removed {} left by an interrupted save", e.path().string());
    }
  }
  // Tokenizer: given, or kept from an earlier run in this directory, or trained now.
  const std::string spm_path = cfg.run_dir + "/spm.model";
  Tokenizer tok = [&] {
    if (!cfg.data.spm_model.empty()) return Tokenizer::load(cfg.data.spm_model);
    if (fs::exists(spm_path)) return Tokenizer::load(spm_path);
    spdlog::info("training SentencePiece ({} pieces) on {} + {}", cfg.model.vocab_size, cfg.data.train_src, cfg.data.train_tgt);
    TokenizerTrainOptions spm;
    spm.vocab_size = cfg.model.vocab_size;
    spm.character_coverage = cfg.data.spm_character_coverage;
    spm.input_sentence_size = cfg.data.spm_input_sentence_size;
    spm.seed = static_cast<uint32_t>(T.seed);
    Tokenizer::train({cfg.data.train_src, cfg.data.train_tgt}, spm, spm_path);
    return Tokenizer::load(spm_path);
  }();
  spdlog::info("tokenizer: {} pieces", tok.vocab_size());

  auto train_data = load_parallel(cfg.data.train_src, cfg.data.train_tgt, tok, cfg.data.max_len);
  spdlog::info("train: {} pairs kept of {} ({} with an empty side, {} longer than max_len {}), {} source / {} target tokens",
               train_data.size(), train_data.stats.lines, train_data.stats.empty, train_data.stats.too_long,
               cfg.data.max_len, train_data.stats.src_tokens, train_data.stats.tgt_tokens);
  if (train_data.size() == 0) throw Error("training corpus " + cfg.data.train_src + ": no usable sentence pairs");
  ParallelCorpus valid;
  std::vector<std::string> valid_src_text, valid_ref_text;
  if (!cfg.data.valid_src.empty()) {
    valid = load_parallel(cfg.data.valid_src, cfg.data.valid_tgt, tok, 0);
    valid_src_text = read_text_lines(cfg.data.valid_src);
    valid_ref_text = read_text_lines(cfg.data.valid_tgt);
    spdlog::info("valid: {} pairs", valid.size());
  }

  // Model and optimizer.
  GnmtModel model(cfg.model, tok.vocab_size());
  model->to(device);
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(T.lr).betas({T.adam_beta1, T.adam_beta2}).eps(1e-9));
  TrainingState state;
  std::map<std::string, torch::Tensor> resumed_ema;
  if (resumed) {
    auto& ck = *resumed;
    if (ck.tokenizer.serialized() != tok.serialized())
      throw Error("--resume: " + last_path + " was trained with another SentencePiece model than " +
                  (cfg.data.spm_model.empty() ? spm_path : cfg.data.spm_model) + " (" +
                  std::to_string(ck.tokenizer.vocab_size()) + " pieces in the checkpoint, " +
                  std::to_string(tok.vocab_size()) + " now" +
                  (ck.tokenizer.vocab_size() == tok.vocab_size() ? ", same size but different pieces or scores)" : ")"));
    for (const auto& d : diff_configs(ck.config, cfg)) spdlog::warn("resume: config changed: {}", d);
    torch::NoGradGuard no_grad;
    auto src = ck.model->named_parameters();
    for (auto& p : model->named_parameters()) p.value().copy_(src[p.key()]);
    load_optimizer_state(last_path, optimizer);
    state = ck.state;
    resumed_ema = std::move(ck.ema);
    spdlog::info("resumed from {} at step {} (epoch {}, batch {})", last_path, state.step, state.epoch + 1, state.batch_in_epoch);
  }
  write_file_atomically(cfg.run_dir + "/config.yaml", dump_config(cfg));
  spdlog::info("model: {} parameters, {}+{} layers x {}, residual from layer {}; device {}, {} threads",
               model->parameter_count(), cfg.model.enc_layers, cfg.model.dec_layers, cfg.model.hidden_size,
               cfg.model.residual_start, device.str(), threads);

  // Exponential moving average of the weights (training.ema_decay > 0): updated after every step, saved
  // in checkpoints beside the raw weights, and the weights that are validated (so best.pt is chosen by it).
  std::map<std::string, torch::Tensor> ema;
  if (T.ema_decay > 0) {
    torch::NoGradGuard no_grad;
    for (const auto& p : model->named_parameters()) {
      auto it = resumed_ema.find(p.key());
      ema[p.key()] = it != resumed_ema.end() ? it->second.to(device).clone() : p.value().detach().clone();
    }
    if (args.resume && resumed_ema.empty()) spdlog::warn("resume: {} holds no EMA weights; the EMA starts from the current weights", last_path);
  }
  auto update_ema = [&] {
    if (ema.empty()) return;
    torch::NoGradGuard no_grad;
    for (const auto& p : model->named_parameters()) ema[p.key()].mul_(T.ema_decay).add_(p.value().detach(), 1.0 - T.ema_decay);
  };

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  g_signals = 0;

  int64_t last_saved_step = args.resume ? state.step : -1;
  auto save_unchecked = [&](bool final_save) {
    std::string path = cfg.run_dir + "/ckpt-" + std::to_string(state.step) + ".pt";
    save_checkpoint(path, model, &optimizer, cfg, tok, state, ema.empty() ? nullptr : &ema);
    link_atomically(path, last_path);
    // Keep the newest keep_last step checkpoints (last.pt and best.pt are links and stay valid).
    std::vector<std::pair<int64_t, fs::path>> ckpts;
    static const std::regex re("ckpt-([0-9]+)\\.pt");
    for (const auto& e : fs::directory_iterator(cfg.run_dir)) {
      std::smatch m;
      auto name = e.path().filename().string();
      if (std::regex_match(name, m, re)) ckpts.emplace_back(std::stoll(m[1]), e.path());
    }
    std::sort(ckpts.rbegin(), ckpts.rend());
    for (size_t i = static_cast<size_t>(T.keep_last); i < ckpts.size(); ++i) fs::remove(ckpts[i].second);
    spdlog::info("saved {}{}", path, final_save ? " (final)" : "");
    return path;
  };
  // Saving that fails (disk full, run_dir gone or read-only) stops training: continuing without
  // checkpoints would lose the work the user believes is safe. The previous checkpoint is untouched
  // because every file is written to a temporary name and renamed.
  auto save = [&](bool final_save, bool best) {
    try {
      auto path = save_unchecked(final_save);
      if (best) link_atomically(path, cfg.run_dir + "/best.pt");
      last_saved_step = state.step;
    } catch (const std::exception& e) {
      throw std::runtime_error(
          "saving the checkpoint of step " + std::to_string(state.step) + " failed: " + first_line(e.what()) + "; " +
          (last_saved_step >= 0 ? last_path + " (step " + std::to_string(last_saved_step) + ") is intact"
                                : std::string("no earlier checkpoint")) +
          "; training stopped (free space or fix run_dir, then run with --resume)");
    }
  };

  // Returns true when this validation is the best so far by training.best_metric (BLEU needs
  // valid_bleu_lines > 0; without BLEU the cross-entropy decides). Counts validations without a new best.
  bool early_stopped = false;
  auto run_validation = [&]() {
    if (valid.size() == 0) return false;
    std::vector<torch::Tensor> raw;
    if (!ema.empty()) {  // validate the EMA weights, then put the raw ones back
      torch::NoGradGuard no_grad;
      for (auto& p : model->named_parameters()) { raw.push_back(p.value().detach().clone()); p.value().copy_(ema[p.key()]); }
    }
    auto v = validate_model(model, valid, valid_src_text, valid_ref_text, tok, cfg, device);
    if (!ema.empty()) {
      torch::NoGradGuard no_grad;
      size_t i = 0;
      for (auto& p : model->named_parameters()) p.value().copy_(raw[i++]);
    }
    spdlog::info("validation step {}: xent {:.4f} ppl {:.2f}{}", state.step, v.xent, std::exp(v.xent),
                 v.bleu >= 0 ? fmt::format(" BLEU {:.2f} (greedy, {} lines)", v.bleu,
                                           std::min<int64_t>(T.valid_bleu_lines, valid_src_text.size()))
                             : std::string());
    state.history += fmt::format("step={} valid_xent={:.4f} valid_bleu={:.2f}\n", state.step, v.xent, v.bleu);
    const bool by_bleu = T.best_metric == "bleu" && v.bleu >= 0;
    bool best = by_bleu ? v.bleu > state.best_valid_bleu
                        : (state.best_valid_xent < 0 || v.xent < state.best_valid_xent);
    state.best_valid_bleu = std::max(state.best_valid_bleu, v.bleu);
    if (state.best_valid_xent < 0 || v.xent < state.best_valid_xent) state.best_valid_xent = v.xent;
    state.validations_since_best = best ? 0 : state.validations_since_best + 1;
    if (T.early_stop > 0 && state.validations_since_best >= T.early_stop) {
      early_stopped = true;
      spdlog::info("early stopping: {} validations in a row without a better {} (best {:.4f})", state.validations_since_best,
                   by_bleu ? "BLEU" : "cross-entropy", by_bleu ? state.best_valid_bleu : state.best_valid_xent);
    }
    return best;
  };

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const double seconds_before = state.train_seconds;
  auto elapsed = [&] { return seconds_before + std::chrono::duration<double>(clock::now() - start).count(); };
  double log_loss = 0;
  int64_t log_tokens = 0, log_src_tokens = 0;
  StepGuard step_guard(T.max_bad_steps);
  auto log_start = clock::now();
  double log_pause = 0;  // seconds spent validating/saving since log_start
  bool stop = false, preempted = false;
  model->train();

  if ((T.max_steps > 0 && state.step >= T.max_steps) || (T.max_minutes > 0 && state.train_seconds >= T.max_minutes * 60) ||
      (T.max_epochs > 0 && state.epoch >= T.max_epochs)) {
    spdlog::info("nothing to train: the run already reached its limit (step {}, {} of training); raise "
                 "training.max_steps, max_minutes or max_epochs to continue", state.step, fmt_duration(state.train_seconds));
    return 0;
  }
  while (!stop) {
    if (T.max_epochs > 0 && state.epoch >= T.max_epochs) break;
    auto batches = make_batches(train_data, T.batch_tokens, static_cast<uint64_t>(T.seed), state.epoch);
    for (; state.batch_in_epoch < static_cast<int64_t>(batches.size()); ) {
      auto batch = make_batch(train_data, batches[state.batch_in_epoch]).to(device);
      const double lr = learning_rate(T, state.step + 1);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      optimizer.zero_grad();
      auto logits = model(batch.src, batch.src_lengths, batch.tgt_in);
      auto loss = smoothed_loss(logits, batch.tgt_out, T.label_smoothing);
      (loss / static_cast<double>(batch.tgt_tokens)).backward();
      const double loss_value = loss.item<double>();
      ++state.batch_in_epoch;
      if (!step_guard.check_and_clip(loss_value, model->parameters(), T.clip_norm, state.step + 1)) continue;  // NaN/inf: skipped
      optimizer.step();
      update_ema();
      ++state.step;
      log_loss += loss_value;
      log_tokens += batch.tgt_tokens;
      log_src_tokens += batch.src_tokens;
      state.train_seconds = elapsed();
      const auto step_end = clock::now();

      if (T.max_steps > 0 && state.step >= T.max_steps) stop = true;
      if (T.max_minutes > 0 && state.train_seconds >= T.max_minutes * 60) stop = true;
      if (g_signals > 0) { stop = true; preempted = true; }

      if (state.step % T.log_every == 0 || stop) {
        double dt = std::chrono::duration<double>(clock::now() - log_start).count() - log_pause;
        double left = -1;
        if (T.max_minutes > 0) left = T.max_minutes * 60 - state.train_seconds;
        if (T.max_steps > 0) {
          double per_step = state.train_seconds / static_cast<double>(state.step);
          double by_steps = per_step * static_cast<double>(T.max_steps - state.step);
          left = left < 0 ? by_steps : std::min(left, by_steps);
        }
        const double shown_loss = log_loss / std::max<int64_t>(log_tokens, 1);
        spdlog::info("step {} epoch {} batch {}/{} | loss {} | lr {:.2e} | {:.0f} tgt tok/s ({:.0f} src) | {} elapsed{}",
                     state.step, state.epoch + 1, state.batch_in_epoch, batches.size(),
                     args.exact_losses ? fmt::format("{:.17f}", shown_loss) : fmt::format("{:.4f}", shown_loss), lr, log_tokens / dt, log_src_tokens / dt,
                     fmt_duration(state.train_seconds), left >= 0 ? ", " + fmt_duration(std::max(0.0, left)) + " left" : "");
        log_loss = 0; log_tokens = 0; log_src_tokens = 0; log_pause = 0;
        log_start = clock::now();
      }
      bool do_valid = (stop && !preempted) || (T.valid_every > 0 && state.step % T.valid_every == 0);
      bool best = do_valid && run_validation();  // before saving, so the score goes into the checkpoint
      if (early_stopped) stop = true;
      bool do_save = stop || (T.save_every > 0 && state.step % T.save_every == 0);
      if (do_save || best) save(stop, best);
      if (stop) break;
      if (do_valid || do_save || best) {  // keep validation and saving out of the next tokens/s figure
        log_pause += std::chrono::duration<double>(clock::now() - step_end).count();
      }
    }
    if (stop) break;
    state.epoch += 1;
    state.batch_in_epoch = 0;
  }
  if (!stop) {  // max_epochs reached
    bool best = run_validation();
    save(true, best);
  }
  spdlog::info("training done: {} steps, {} full epochs, {} of training", state.step, state.epoch, fmt_duration(state.train_seconds));
  if (preempted) {
    spdlog::warn("stopped by signal after saving step {}; exit code {} (requeue and run with --resume)", state.step, kExitPreempted);
    return kExitPreempted;
  }
  return 0;
}

}  // namespace gnmt
