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
#include <sstream>
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
#include "training/distributed.h"
#include "training/mixed_precision.h"
#include "training/numerics.h"
#include "training/optimizer.h"
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

// The dropout generator of each batch is seeded from (seed, step, slot), slot = the batch's place in the
// update (0 .. ranks x accum_steps - 1). Resumed runs and runs on another number of processes therefore draw
// the same masks for the same batch, on CPU and CUDA alike, without saving generator states.
void seed_batch(int64_t seed, int64_t step, int64_t slot) {
  uint64_t x = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(step) * 0xBF58476D1CE4E5B9ULL ^
               static_cast<uint64_t>(slot + 1) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  torch::manual_seed(x & 0x7FFFFFFFFFFFFFFFULL);
}

int64_t target_tokens(const ParallelCorpus& corpus, const std::vector<size_t>& batch) {
  int64_t n = 0;
  for (auto i : batch) n += static_cast<int64_t>(corpus.tgt[i].size()) + 1;  // + eos
  return n;
}

// The keep_best list "STEP:SCORE STEP:SCORE ..." (best first; higher score = better).
std::vector<std::pair<int64_t, double>> parse_best_steps(const std::string& text) {
  std::vector<std::pair<int64_t, double>> out;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    auto colon = item.find(':');
    if (colon == std::string::npos) continue;
    out.emplace_back(std::stoll(item.substr(0, colon)), std::stod(item.substr(colon + 1)));
  }
  return out;
}

std::string format_best_steps(const std::vector<std::pair<int64_t, double>>& best) {
  std::string out;
  for (const auto& [step, score] : best) out += (out.empty() ? "" : " ") + std::to_string(step) + ":" + fmt::format("{:.17g}", score);
  return out;
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
  // Processes: one per device; rank 0 alone logs, validates and writes files.
  const DistributedEnv dist_env = DistributedEnv::from_environment();
  const torch::Device device = resolve_device(device_for_rank(cfg.device, dist_env));
  if (T.precision == "fp16" && !device.is_cuda())
    throw Error("config key 'training.precision': fp16 needs a CUDA device (this run uses " + device.str() + "); use bf16 or fp32");
  const int threads = configure_threads(T.threads);
  const bool main_rank = dist_env.rank == 0;
  if (!main_rank) spdlog::set_level(spdlog::level::warn);
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
  Communicator comm(dist_env, device);
  if (comm.world_size() > 1)
    spdlog::info("data-parallel training: {} processes ({} backend, launched by {}), global batch = {} x {} x {} tokens",
                 comm.world_size(), comm.backend(), dist_env.launcher, comm.world_size(), T.accum_steps, T.batch_tokens);
  const std::string spm_path = cfg.run_dir + "/spm.model";
  auto prepare_run_dir = [&] {
    std::error_code ec;
    fs::create_directories(cfg.run_dir, ec);
    if (ec || access(cfg.run_dir.c_str(), W_OK) != 0)
      throw Error("run_dir " + cfg.run_dir + ": cannot create or write to it" + (ec ? ": " + ec.message() : ""));
    // Temporary files of an earlier run killed while saving (kill -9, power loss): never valid, remove them.
    static const std::regex tmp_re("(\\.ckpt-[0-9]+\\.pt|\\.config\\.yaml|(last|best)\\.pt)\\.tmp\\.[0-9]+");
    for (const auto& e : fs::directory_iterator(cfg.run_dir, ec)) {
      auto name = e.path().filename().string();
      if (std::regex_match(name, tmp_re) && fs::remove(e.path(), ec)) spdlog::info("removed {} left by an interrupted save", e.path().string());
    }
  };
  // Tokenizer: given, or the resumed run's, or trained now on the checked corpus (by rank 0; the other ranks
  // wait for it and load the file). A new run trains its own: a spm.model left in run_dir by a run that
  // failed before its first checkpoint may come from other data.
  std::optional<ParallelText> train_text;  // read once: for SentencePiece (when trained here) and the ids
  auto make_tokenizer = [&] {
    if (!cfg.data.spm_model.empty()) return Tokenizer::load(cfg.data.spm_model);
    if ((resumed || !main_rank) && fs::exists(spm_path)) return Tokenizer::load(spm_path);
    if (!main_rank) throw Error("rank " + std::to_string(comm.rank()) + ": " + spm_path + " missing after rank 0 trained it (is run_dir on a shared file system?)");
    train_text = read_parallel_text(cfg.data.train_src, cfg.data.train_tgt);  // refused before any work if bad
    spdlog::info("training SentencePiece ({} pieces) on {} + {}", cfg.model.vocab_size, cfg.data.train_src, cfg.data.train_tgt);
    TokenizerTrainOptions spm;
    spm.vocab_size = cfg.model.vocab_size;
    spm.character_coverage = cfg.data.spm_character_coverage;
    spm.input_sentence_size = cfg.data.spm_input_sentence_size;
    spm.seed = static_cast<uint32_t>(T.seed);
    Tokenizer::train({&train_text->src, &train_text->tgt}, cfg.data.train_src + ", " + cfg.data.train_tgt, spm, spm_path);
    return Tokenizer::load(spm_path);
  };
  std::optional<Tokenizer> tok_holder;
  std::exception_ptr setup_error;
  if (main_rank) {
    try { prepare_run_dir(); tok_holder = make_tokenizer(); } catch (...) { setup_error = std::current_exception(); }
  }
  // Rank 0's setup can fail (bad run_dir, corpus): every rank learns it here instead of waiting for a timeout.
  const bool setup_failed = comm.sum_over_ranks({setup_error ? 1.0 : 0.0})[0] > 0;
  if (setup_error) std::rethrow_exception(setup_error);
  if (setup_failed) throw std::runtime_error("rank 0 failed to set up the run (see its log); stopping");
  if (!main_rank) tok_holder = make_tokenizer();
  const Tokenizer& tok = *tok_holder;
  spdlog::info("tokenizer: {} pieces", tok.vocab_size());

  if (!train_text) train_text = read_parallel_text(cfg.data.train_src, cfg.data.train_tgt);
  auto train_data = encode_parallel(*train_text, tok, cfg.data.max_len);
  train_text.reset();
  spdlog::info("train: {} pairs kept of {} ({} with an empty side, {} longer than max_len {}), {} source / {} target tokens",
               train_data.size(), train_data.stats.lines, train_data.stats.empty, train_data.stats.too_long,
               cfg.data.max_len, train_data.stats.src_tokens, train_data.stats.tgt_tokens);
  if (train_data.size() == 0) throw Error("training corpus " + cfg.data.train_src + ": no usable sentence pairs");
  ParallelCorpus valid;
  std::vector<std::string> valid_src_text, valid_ref_text;
  if (!cfg.data.valid_src.empty() && main_rank) {
    valid = load_parallel(cfg.data.valid_src, cfg.data.valid_tgt, tok, 0);
    valid_src_text = read_text_lines(cfg.data.valid_src);
    valid_ref_text = read_text_lines(cfg.data.valid_tgt);
    spdlog::info("valid: {} pairs", valid.size());
  }
  const bool has_valid = !cfg.data.valid_src.empty();  // the same on every rank (only rank 0 loads it)

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
    if (ck.state.world_size != comm.world_size())
      spdlog::warn("resume: {} process(es) now, {} before: the global batch changes from {} to {} x {} x {} tokens",
                   comm.world_size(), ck.state.world_size, ck.state.world_size, comm.world_size(), T.accum_steps, T.batch_tokens);
    torch::NoGradGuard no_grad;
    auto src = ck.model->named_parameters();
    for (auto& p : model->named_parameters()) p.value().copy_(src[p.key()]);
    load_optimizer_state(last_path, optimizer);
    state = ck.state;
    resumed_ema = std::move(ck.ema);
    spdlog::info("resumed from {} at step {} (epoch {}, batch {})", last_path, state.step, state.epoch + 1, state.batch_in_epoch);
  }
  state.world_size = comm.world_size();
  comm.broadcast(model->parameters());  // identical starting weights on every rank, whatever happened above
  if (main_rank) write_file_atomically(cfg.run_dir + "/config.yaml", dump_config(cfg));
  spdlog::info("model: {} parameters, {}+{} layers x {}, residual from layer {}; device {}, {} threads, {} precision",
               model->parameter_count(), cfg.model.enc_layers, cfg.model.dec_layers, cfg.model.hidden_size,
               cfg.model.residual_start, device.str(), threads, T.precision);

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
  std::vector<torch::Tensor> ema_list, ema_of;  // the same tensors in parameter order, for multi-tensor ops
  if (!ema.empty())
    for (const auto& p : model->named_parameters()) { ema_list.push_back(ema[p.key()]); ema_of.push_back(p.value().detach()); }
  auto update_ema = [&] {  // ema = decay * ema + (1 - decay) * weights
    if (ema.empty()) return;
    torch::NoGradGuard no_grad;
    at::_foreach_mul_(ema_list, T.ema_decay);
    at::_foreach_add_(ema_list, ema_of, 1.0 - T.ema_decay);
  };

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  g_signals = 0;

  // Checkpoints kept: the newest keep_last step checkpoints, and the keep_best best by best_metric
  // (state.best_steps). last.pt and best.pt are hard links to kept files.
  auto best_list = parse_best_steps(state.best_steps);
  int64_t last_saved_step = args.resume ? state.step : -1;
  auto save_unchecked = [&](bool final_save) {
    std::string path = cfg.run_dir + "/ckpt-" + std::to_string(state.step) + ".pt";
    save_checkpoint(path, model, &optimizer, cfg, tok, state, ema.empty() ? nullptr : &ema);
    link_atomically(path, last_path);
    std::vector<std::pair<int64_t, fs::path>> ckpts;
    static const std::regex re("ckpt-([0-9]+)\\.pt");
    for (const auto& e : fs::directory_iterator(cfg.run_dir)) {
      std::smatch m;
      auto name = e.path().filename().string();
      if (std::regex_match(name, m, re)) ckpts.emplace_back(std::stoll(m[1]), e.path());
    }
    std::sort(ckpts.rbegin(), ckpts.rend());
    auto is_best = [&](int64_t step) {
      return std::any_of(best_list.begin(), best_list.end(), [&](const auto& b) { return b.first == step; });
    };
    for (size_t i = static_cast<size_t>(T.keep_last); i < ckpts.size(); ++i)
      if (!is_best(ckpts[i].first)) fs::remove(ckpts[i].second);
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

  // Validates (rank 0). Returns {new best, among the keep_best best}. Counts validations without a new best.
  bool early_stopped = false;
  auto run_validation = [&]() -> std::pair<bool, bool> {
    if (valid.size() == 0) return {false, false};
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
    // The keep_best list, best first (a tie keeps the earlier step ahead).
    const double score = by_bleu ? v.bleu : -v.xent;
    best_list.emplace_back(state.step, score);
    std::stable_sort(best_list.begin(), best_list.end(), [](const auto& a, const auto& b) { return a.first != b.first && a.second > b.second; });
    if (best_list.size() > static_cast<size_t>(T.keep_best)) best_list.resize(static_cast<size_t>(T.keep_best));
    const bool kept = std::any_of(best_list.begin(), best_list.end(), [&](const auto& b) { return b.first == state.step; });
    state.best_steps = format_best_steps(best_list);
    return {best, kept};
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
  LossScaler scaler;
  scaler.enabled = T.precision == "fp16";
  scaler.scale = scaler.enabled ? state.loss_scale : 1.0;
  scaler.good_steps = state.loss_scale_good_steps;
  const std::vector<torch::Tensor> params = model->parameters();
  const int64_t ranks = comm.world_size(), slots = ranks * T.accum_steps;
  comm.attach_gradients(params, T.bucket_mb);
  const int64_t first_step = state.step;
  // Each update takes the next ranks x accum_steps batches of the epoch's list: rank r trains slots r,
  // r + ranks, ... The loss is normalised by the target tokens of all of them, so the summed gradient equals
  // that of one process training the same global batch.
  while (!stop) {
    if (T.max_epochs > 0 && state.epoch >= T.max_epochs) break;
    auto batches = make_batches(train_data, T.batch_tokens, static_cast<uint64_t>(T.seed), state.epoch);
    const auto n_batches = static_cast<int64_t>(batches.size());
    for (; state.batch_in_epoch < n_batches; ) {
      const int64_t first = state.batch_in_epoch, used = std::min(slots, n_batches - first);
      int64_t global_tokens = 0;
      for (int64_t s = 0; s < used; ++s) global_tokens += target_tokens(train_data, batches[first + s]);
      const double lr = learning_rate(T, state.step + 1);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      optimizer.zero_grad();
      torch::Tensor local_loss = torch::zeros({}, torch::TensorOptions(torch::kDouble).device(device));
      int64_t local_tokens = 0, local_src_tokens = 0;
      for (int64_t s = comm.rank(); s < used; s += ranks) {
        seed_batch(T.seed, state.step, s);
        if (s + ranks >= used) comm.arm_gradient_hooks();  // this rank's last batch of the update
        auto batch = make_batch(train_data, batches[first + s]).to(device);
        torch::Tensor loss;
        {
          AutocastScope autocast(T.precision, device);
          auto logits = model(batch.src, batch.src_lengths, batch.tgt_in);
          loss = smoothed_loss(logits, batch.tgt_out, T.label_smoothing);  // fp32 whatever the logits' dtype
        }
        (loss / (static_cast<double>(global_tokens) / scaler.scale)).backward();
        local_loss += loss.detach();  // read once per update, not per batch: no wait for the device here
        local_tokens += batch.tgt_tokens;
        local_src_tokens += batch.src_tokens;
      }
      state.batch_in_epoch += used;
      // One round sums the gradients and the statistics every rank needs to take the same decisions.
      const bool out_of_time = T.max_minutes > 0 && elapsed() >= T.max_minutes * 60;
      auto stats = comm.stats_tensor({local_loss.item<double>(), static_cast<double>(local_tokens), static_cast<double>(local_src_tokens),
                                      g_signals > 0 ? 1.0 : 0.0, out_of_time ? 1.0 : 0.0});
      comm.finish_gradients(stats);
      if (comm.world_size() > 1 && state.step == first_step) {
        auto [n_buckets, early] = comm.bucket_overlap();
        spdlog::info("gradient buckets: {} of {:g} MB, {} reduced while backward was running", n_buckets, T.bucket_mb, early);
      }
      stats = stats.cpu();
      const double loss_value = stats[0].item<double>();
      const auto step_tokens = static_cast<int64_t>(stats[1].item<double>());
      const auto step_src_tokens = static_cast<int64_t>(stats[2].item<double>());
      if (scaler.scale != 1.0) scale_gradients(params, 1.0 / scaler.scale);
      // The norm before clipping, measured and clipped in one pass (not when the loss is already non-finite).
      const double grad_norm = std::isfinite(loss_value) ? clip_gradients(params, T.clip_norm) : 0.0;
      // fp16: inf/nan gradients with a finite loss mean the loss scale is too high - skip the step and halve
      // the scale (normal while it settles, not a bad step).
      if (scaler.enabled && std::isfinite(loss_value) && !std::isfinite(grad_norm)) {
        scaler.update(false);
        spdlog::info("step {}: fp16 gradients overflowed; update skipped, loss scale now {}", state.step + 1, scaler.scale);
        continue;
      }
      if (!step_guard.check(loss_value, grad_norm, state.step + 1)) {  // NaN/inf: skipped
        scaler.update(false);
        continue;
      }
      scaler.update(true);
      adam_step(optimizer);
      update_ema();
      ++state.step;
      state.loss_scale = scaler.scale;
      state.loss_scale_good_steps = scaler.good_steps;
      log_loss += loss_value;
      log_tokens += step_tokens;
      log_src_tokens += step_src_tokens;
      state.train_seconds = elapsed();
      const auto step_end = clock::now();

      if (T.max_steps > 0 && state.step >= T.max_steps) stop = true;
      if (stats[4].item<double>() > 0) stop = true;                         // some rank ran out of time
      if (stats[3].item<double>() > 0) { stop = true; preempted = true; }   // some rank got SIGTERM/SIGINT

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
        spdlog::info("step {} epoch {} batch {}/{} | loss {} | lr {:.2e} | {:.0f} tgt tok/s ({:.0f} src) | peak mem {:.0f} MiB | {} elapsed{}",
                     state.step, state.epoch + 1, state.batch_in_epoch, batches.size(),
                     args.exact_losses ? fmt::format("{:.17f}", shown_loss) : fmt::format("{:.4f}", shown_loss), lr, log_tokens / dt, log_src_tokens / dt,
                     peak_memory_mib(device), fmt_duration(state.train_seconds), left >= 0 ? ", " + fmt_duration(std::max(0.0, left)) + " left" : "");
        log_loss = 0; log_tokens = 0; log_src_tokens = 0; log_pause = 0;
        log_start = clock::now();
      }
      const bool do_valid = has_valid && ((stop && !preempted) || (T.valid_every > 0 && state.step % T.valid_every == 0));
      bool do_save = stop || (T.save_every > 0 && state.step % T.save_every == 0);
      if (do_valid || do_save) {
        // Rank 0 validates and saves; the others wait for its decisions (early stop, a failed save).
        std::string save_error;
        if (main_rank) {
          auto [best, kept] = do_valid ? run_validation() : std::pair<bool, bool>{false, false};
          if (do_save || best || kept || early_stopped) {
            try { save(stop || early_stopped, best); } catch (const std::exception& e) { save_error = e.what(); }
          }
        }
        const auto flags = comm.sum_over_ranks({early_stopped ? 1.0 : 0.0, save_error.empty() ? 0.0 : 1.0});
        if (!save_error.empty()) throw std::runtime_error(save_error);
        if (flags[1] > 0) throw std::runtime_error("rank 0 could not save a checkpoint; stopping");
        if (flags[0] > 0) { early_stopped = true; stop = true; }
        log_pause += std::chrono::duration<double>(clock::now() - step_end).count();
      }
      if (stop) break;
    }
    if (stop) break;
    state.epoch += 1;
    state.batch_in_epoch = 0;
  }
  if (!stop && main_rank) {  // max_epochs reached
    save(true, has_valid && run_validation().first);
  }
  comm.barrier();
  spdlog::info("training done: {} steps, {} full epochs, {} of training", state.step, state.epoch, fmt_duration(state.train_seconds));
  if (preempted) {
    spdlog::warn("stopped by signal after saving step {}; exit code {} (requeue and run with --resume)", state.step, kExitPreempted);
    return kExitPreempted;
  }
  return 0;
}

}  // namespace gnmt
