#include "cli/bench_command.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli/bench_files.h"
#include "common/device.h"
#include "common/error.h"
#include "common/fs.h"
#include "config/config.h"
#include "data/corpus.h"
#include "eval/text_io.h"
#include "models/flops.h"
#include "models/model.h"
#include "rnn/residual_lstm.h"
#include "training/checkpoint.h"
#include "training/mixed_precision.h"
#include "training/optimizer.h"
#include "translator/translator.h"

namespace gnmt {
namespace {

using clock_type = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// Median seconds of `fn` over `reps` runs after `warmup` runs.
template <class F> double time_it(const torch::Device& d, int warmup, int reps, F&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    sync(d);
    auto t0 = clock_type::now();
    fn();
    sync(d);
    t.push_back(seconds_since(t0));
  }
  return median(t);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// CPU seconds (user + system, all threads) this process has used: on a shared machine, work per CPU
// second is steadier than work per wall second.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Lines "result KEY VALUE" are what scripts/bench/compare.py reads (reference_gnmt.py prints the same keys).
void result(const std::string& key, double value) {
  std::cout << "result " << key << " " << std::setprecision(10) << value << std::setprecision(6) << "\n";
}

// The n x n x n matrix product rate in the dtype the config's precision computes its products in (fp32,
// bf16 or fp16): the ceiling that MFU is measured against.
double gemm_rate(const torch::Device& device, int64_t n, torch::ScalarType dtype) {
  auto opts = torch::TensorOptions().device(device).dtype(dtype);
  auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  double s = time_it(device, 2, 5, [&] { torch::mm(a, b); });
  return 2.0 * std::pow(static_cast<double>(n), 3) / s;
}

GnmtModel on_device(GnmtModel model, const torch::Device& device) {
  model->to(device);
  return model;
}

// One training step as the trainer takes it: the forward pass under training.precision's autocast,
// label-smoothed loss / target tokens, backward, clipping, Adam.
struct Stepper {
  GnmtModel model;
  torch::optim::Adam adam;
  const TrainingOptions& T;
  torch::Device device;
  std::vector<torch::Tensor> params;
  bool torch_optimizer = false;
  Stepper(const Config& cfg, const torch::Device& d)
      : model(on_device(GnmtModel(cfg.model, cfg.model.vocab_size), d)),
        adam(model->parameters(),
             torch::optim::AdamOptions(cfg.training.lr).betas({cfg.training.adam_beta1, cfg.training.adam_beta2}).eps(1e-9)),
        T(cfg.training),
        device(d),
        params(model->parameters()) {
    model->train();
  }
  double step(const Batch& b) {
    adam.zero_grad();
    torch::Tensor loss;
    {
      AutocastScope autocast(T.precision, device);
      loss = smoothed_loss(model(b.src, b.src_lengths, b.tgt_in), b.tgt_out, T.label_smoothing);
    }
    (loss / static_cast<double>(b.tgt_tokens)).backward();
    const double value = loss.item<double>();
    if (torch_optimizer) {  // --torch-optimizer: LibTorch's per-parameter loops
      if (T.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, T.clip_norm);
      adam.step();
    } else {
      clip_gradients(params, T.clip_norm);  // what the trainer does: measures the norm (one sync) and clips
      adam_step(adam);
    }
    return value;
  }
};

Tokenizer tokenizer_for(const Config& cfg, const std::string& checkpoint) {
  if (!checkpoint.empty()) return load_checkpoint(checkpoint, torch::Device(torch::kCPU)).tokenizer;
  if (!cfg.data.spm_model.empty()) return Tokenizer::load(cfg.data.spm_model);
  const std::string spm = cfg.run_dir + "/spm.model";
  require_readable_file(spm, "SentencePiece model (give --checkpoint, data.spm_model, or train the config once)");
  return Tokenizer::load(spm);
}

// --profile: Kineto's Chrome trace of the operators and, on CUDA, of the GPU kernels they launched
// (scripts/bench/profile_summary.py sums it up by operator and by kernel).
class Profiler {
 public:
  Profiler(const std::string& path, const torch::Device& device) : path_(path) {
    if (path_.empty()) return;
    namespace prof = torch::profiler::impl;
    const prof::ProfilerConfig config(prof::ProfilerState::KINETO);
    std::set<prof::ActivityType> activities{prof::ActivityType::CPU};
    if (device.is_cuda()) activities.insert(prof::ActivityType::CUDA);
    torch::autograd::profiler::prepareProfiler(config, activities);
    torch::autograd::profiler::enableProfiler(config, activities);
  }
  // Writes the trace (call after synchronising the device).
  void finish() {
    if (path_.empty()) return;
    torch::autograd::profiler::disableProfiler()->save(path_);
    path_.clear();
  }
  ~Profiler() {
    try { finish(); } catch (...) {}
  }

 private:
  std::string path_;
};

struct Opts {
  std::string config, checkpoint, dump_batches, batches, dump_test, test, translate, profile;
  std::vector<std::string> set;
  int64_t steps = 10, length = 32, gemm = 2048, num_batches = 12, warmup = 2, beam = -1;
  bool unfused = false, torch_optimizer = false;
};

// --unfused: torch::nn::LSTM and the composite attention expression instead of the fused CPU kernels.
void apply_unfused(const Opts& o, GnmtModel& model) {
  set_fused_lstm(!o.unfused);
  model->decoder->attention->fused = !o.unfused;
}
// The training variant: --unfused and --torch-optimizer.
void apply_variant(const Opts& o, Stepper& st) {
  apply_unfused(o, st.model);
  st.torch_optimizer = o.torch_optimizer;
}

// Synthetic batches of one length: the step time, tokens/s and MFU of the config's model.
void bench_synthetic(const Opts& o, const Config& cfg, const torch::Device& device, double rate) {
  const int64_t V = cfg.model.vocab_size, L = o.length;
  const int64_t B = std::max<int64_t>(1, cfg.training.batch_tokens / (L + 1));
  Stepper st(cfg, device);
  apply_variant(o, st);
  auto opts = torch::TensorOptions().device(device).dtype(torch::kLong);
  Batch b;
  b.src = torch::randint(4, V, {L, B}, opts);
  b.src_lengths = torch::full({B}, L, opts);
  b.tgt_in = torch::randint(4, V, {L + 1, B}, opts);
  b.tgt_out = torch::randint(4, V, {L + 1, B}, opts);
  b.tgt_tokens = B * (L + 1);
  double step_s = time_it(device, 2, static_cast<int>(o.steps), [&] { st.step(b); });
  double flops = training_flops(cfg.model, V, B, L, L + 1);
  std::cout << "model: " << cfg.model.enc_layers << "+" << cfg.model.dec_layers << " layers x " << cfg.model.hidden_size
            << ", vocab " << V << ", " << st.model->parameter_count() << " parameters\n"
            << "batch: " << B << " sentences x " << L << "+" << L + 1 << " tokens\n"
            << "training step: " << step_s * 1e3 << " ms (median of " << o.steps << "), "
            << static_cast<double>(B * (L + 1)) / step_s << " target tokens/s\n"
            << "model FLOPs per step: " << flops / 1e9 << " GFLOP, achieved " << flops / step_s / 1e9 << " GFLOP/s\n"
            << "MFU (vs the measured GEMM rate): " << 100.0 * flops / step_s / rate << " %\n";
  result("train_tok_s", static_cast<double>(B * (L + 1)) / step_s);
  result("step_s", step_s);
  result("mfu_percent", 100.0 * flops / step_s / rate);
}

// The batches of a file (as written by --dump-batches): the first `warmup` untimed, the rest timed.
void bench_batches(const Opts& o, const Config& cfg, const torch::Device& device, double rate) {
  auto file = read_batches(o.batches);
  const int64_t n = static_cast<int64_t>(file.batches.size());
  if (n <= o.warmup)
    throw Error(o.batches + ": " + std::to_string(n) + " batches, but --warmup " + std::to_string(o.warmup) +
                " leaves none to time");
  Stepper st(cfg, device);
  apply_variant(o, st);
  std::vector<Batch> batches;
  for (const auto& idx : file.batches) batches.push_back(make_batch(file.corpus, idx).to(device));
  for (int64_t i = 0; i < o.warmup; ++i) st.step(batches[i]);
  double tokens = 0, flops = 0, loss = 0;
  sync(device);
  Profiler profiler(o.profile, device);
  auto t0 = clock_type::now();
  const double cpu0 = cpu_seconds();
  for (int64_t i = o.warmup; i < n; ++i) {
    const auto& b = batches[i];
    loss += st.step(b);
    tokens += static_cast<double>(b.tgt_tokens);
    flops += training_flops(cfg.model, cfg.model.vocab_size, b.src.size(1), b.src.size(0), b.tgt_in.size(0));
  }
  sync(device);
  const double dt = seconds_since(t0), cpu = cpu_seconds() - cpu0;
  profiler.finish();
  std::cout << "model: " << st.model->parameter_count() << " parameters; " << n - o.warmup << " timed batches ("
            << o.warmup << " warm-up), " << tokens << " target tokens in " << dt << " s, loss/token "
            << loss / tokens << "\n";
  result("parameters", static_cast<double>(st.model->parameter_count()));
  result("train_tok_s", tokens / dt);
  result("train_tok_cpu_s", tokens / cpu);
  result("step_s", dt / static_cast<double>(n - o.warmup));
  result("gemm_gflops", rate / 1e9);
  result("model_gflops", flops / dt / 1e9);
  result("mfu_percent", 100.0 * flops / dt / rate);
}

// Translates the sentences of an ids file (as written by --dump-test) with the checkpoint, timed.
void bench_translate(const Opts& o, const torch::Device& device) {
  auto ck = load_checkpoint(o.checkpoint, device);
  apply_unfused(o, ck.model);
  auto sources = read_ids(o.translate);
  DecodingOptions d = ck.config.decoding;
  if (o.beam != -1) d.beam = o.beam;
  Translator translator(ck.model, ck.tokenizer, d, device);
  sync(device);
  Profiler profiler(o.profile, device);
  auto t0 = clock_type::now();
  const double cpu0 = cpu_seconds();
  auto out = translator.translate_ids(sources);
  sync(device);
  const double dt = seconds_since(t0), cpu = cpu_seconds() - cpu0;
  profiler.finish();
  double tokens = 0;
  for (const auto& s : out) tokens += static_cast<double>(s.size());
  std::cout << "translated " << sources.size() << " sentences with beam " << d.beam << " (batch " << d.batch_size
            << ") in " << dt << " s\n";
  result("sentences_s", static_cast<double>(sources.size()) / dt);
  result("sentences_cpu_s", static_cast<double>(sources.size()) / cpu);
  result("output_tokens", tokens);
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("bench", "Measure the GEMM rate, training tokens/s and model FLOPs utilisation (MFU) "
                                          "of a config's model (synthetic batches or a batches file), translation "
                                          "speed, and write the files scripts/bench/reference_gnmt.py reads");
  cmd->add_option("-c,--config", o->config, "YAML config whose model, training options, threads and device are used");
  cmd->add_option("--set", o->set, "Override a config key (repeatable), e.g. --set model.hidden_size=512");
  cmd->add_option("--steps", o->steps, "Timed training steps (median reported)")->check(CLI::Range(1, 100000));
  cmd->add_option("--length", o->length, "Source and target length of the synthetic sentences")->check(CLI::Range(1, 1000));
  cmd->add_option("--gemm-size", o->gemm, "Size n of the n x n x n GEMM (in training.precision) that measures the machine's rate")
      ->check(CLI::Range(64, 16384));
  cmd->add_option("-m,--checkpoint", o->checkpoint, "Checkpoint: its tokenizer for --dump-batches/--dump-test, "
                                                    "its model for --dump-test and --translate");
  cmd->add_option("--dump-batches", o->dump_batches, "Write the first --num-batches training batches of the config "
                                                     "(seed, epoch 0) as token ids to this file, then exit");
  cmd->add_option("--num-batches", o->num_batches, "Batches written by --dump-batches")->check(CLI::Range(1, 100000));
  cmd->add_option("--batches", o->batches, "Time training on the batches of this file (from --dump-batches)");
  cmd->add_option("--profile", o->profile, "With --batches or --translate: write a Chrome trace of the timed "
                                           "operators to this file (scripts/bench/profile_summary.py sums it up)");
  cmd->add_option("--warmup", o->warmup, "Untimed first batches of --batches")->check(CLI::Range(0, 1000));
  cmd->add_option("--dump-test", o->dump_test, "Write --test's lines as token ids to this file and the checkpoint's "
                                               "weights to FILE.weights, then exit");
  cmd->add_option("--test", o->test, "Source text file for --dump-test (one sentence per line)");
  cmd->add_option("--translate", o->translate, "Time translating the ids file (from --dump-test) with --checkpoint");
  cmd->add_option("--beam", o->beam, "Beam size for --translate (1 = greedy; default: the checkpoint's)")
      ->check(CLI::Range(1, 100));
  cmd->add_flag("--unfused", o->unfused, "Use torch::nn::LSTM and the composite attention expression instead of "
                                         "the fused CPU kernels (to measure what they bring)");
  cmd->add_flag("--torch-optimizer", o->torch_optimizer, "Train with LibTorch's per-parameter Adam and clip_grad_norm_ "
                                                         "instead of the multi-tensor update the trainer uses");
  cmd->callback([o, exit_code] {
    if (!o->dump_test.empty() || !o->translate.empty()) {
      if (o->checkpoint.empty()) throw Error("--dump-test and --translate need --checkpoint");
      configure_threads(o->config.empty() ? 0 : load_config(o->config, o->set).training.threads);
      if (!o->dump_test.empty()) {
        if (o->test.empty()) throw Error("--dump-test needs --test FILE (source sentences)");
        auto ck = load_checkpoint(o->checkpoint, torch::Device(torch::kCPU));
        std::vector<std::vector<int64_t>> ids;
        for (const auto& line : read_text_lines(o->test)) ids.push_back(ck.tokenizer.encode(line));
        write_ids(o->dump_test, ck.config, ids);
        write_weights(o->dump_test + ".weights", *ck.model);
        std::cout << "wrote " << ids.size() << " sentences to " << o->dump_test << " and the weights to "
                  << o->dump_test << ".weights\n";
      } else {
        bench_translate(*o, torch::Device(torch::kCPU));
        result("peak_rss_mib", peak_rss_mib());
      }
      *exit_code = 0;
      return;
    }
    if (o->config.empty()) throw Error("gnmt bench needs -c CONFIG (or --checkpoint with --dump-test/--translate)");
    Config cfg = load_config(o->config, o->set);
    const torch::Device device = resolve_device(cfg.device);
    const int threads = configure_threads(cfg.training.threads);
    torch::manual_seed(cfg.training.seed);
    if (!o->dump_batches.empty()) {
      auto tok = tokenizer_for(cfg, o->checkpoint);
      if (tok.vocab_size() > cfg.model.vocab_size)
        throw Error("tokenizer has " + std::to_string(tok.vocab_size()) + " ids but model.vocab_size is " +
                    std::to_string(cfg.model.vocab_size));
      auto corpus = load_parallel(cfg.data.train_src, cfg.data.train_tgt, tok, cfg.data.max_len);
      auto batches = make_batches(corpus, cfg.training.batch_tokens, static_cast<uint64_t>(cfg.training.seed), 0);
      batches.resize(std::min<size_t>(batches.size(), static_cast<size_t>(o->num_batches)));
      write_batches(o->dump_batches, cfg, corpus, batches);
      std::cout << "wrote " << batches.size() << " batches to " << o->dump_batches << "\n";
      *exit_code = 0;
      return;
    }
    const auto& precision = cfg.training.precision;
    const double rate = gemm_rate(device, o->gemm, autocast_dtype(precision));
    std::cout << "device " << device.str() << ", " << threads << " threads\n"
              << "GEMM " << o->gemm << "^3 " << precision << ": " << rate / 1e9 << " GFLOP/s\n";
    if (o->batches.empty()) bench_synthetic(*o, cfg, device, rate);
    else bench_batches(*o, cfg, device, rate);
    result("peak_rss_mib", peak_rss_mib());
    *exit_code = 0;
  });
}

}  // namespace gnmt
