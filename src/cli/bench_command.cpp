#include "cli/bench_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "common/device.h"
#include "common/error.h"
#include "config/config.h"
#include "models/flops.h"
#include "models/model.h"

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

// Median seconds of `fn` over `reps` runs after `warmup` runs.
template <class F> double time_it(const torch::Device& d, int warmup, int reps, F&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    sync(d);
    auto t0 = clock_type::now();
    fn();
    sync(d);
    t.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  return median(t);
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  struct Opts { std::string config; std::vector<std::string> set; int64_t steps = 10, length = 32, gemm = 2048; };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("bench", "Measure the GEMM rate, training tokens/s and model FLOPs utilisation (MFU) "
                                          "of a config's model on synthetic batches");
  cmd->add_option("-c,--config", o->config, "YAML config whose model, batch_tokens, threads and device are used")->required();
  cmd->add_option("--set", o->set, "Override a config key (repeatable), e.g. --set model.hidden_size=512");
  cmd->add_option("--steps", o->steps, "Timed training steps (median reported)")->check(CLI::Range(1, 100000));
  cmd->add_option("--length", o->length, "Source and target length of the synthetic sentences")->check(CLI::Range(1, 1000));
  cmd->add_option("--gemm-size", o->gemm, "Size n of the n x n x n fp32 GEMM that measures the machine's rate")
      ->check(CLI::Range(64, 16384));
  cmd->callback([o, exit_code] {
    Config cfg = load_config(o->config, o->set);
    const torch::Device device = resolve_device(cfg.device);
    const int threads = configure_threads(cfg.training.threads);
    torch::manual_seed(0);

    auto opts = torch::TensorOptions().device(device);
    auto a = torch::randn({o->gemm, o->gemm}, opts), b = torch::randn({o->gemm, o->gemm}, opts);
    double gemm_s = time_it(device, 2, 5, [&] { torch::mm(a, b); });
    double gemm_rate = 2.0 * std::pow(static_cast<double>(o->gemm), 3) / gemm_s;

    const int64_t V = cfg.model.vocab_size, L = o->length;
    const int64_t B = std::max<int64_t>(1, cfg.training.batch_tokens / (L + 1));
    GnmtModel model(cfg.model, V);
    model->to(device);
    model->train();
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    auto src = torch::randint(4, V, {L, B}, opts.dtype(torch::kLong));
    auto len = torch::full({B}, L, opts.dtype(torch::kLong));
    auto tgt_in = torch::randint(4, V, {L + 1, B}, opts.dtype(torch::kLong));
    auto tgt_out = torch::randint(4, V, {L + 1, B}, opts.dtype(torch::kLong));
    double step_s = time_it(device, 2, static_cast<int>(o->steps), [&] {
      adam.zero_grad();
      auto loss = smoothed_loss(model(src, len, tgt_in), tgt_out, 0.1) / static_cast<double>(B * (L + 1));
      loss.backward();
      torch::nn::utils::clip_grad_norm_(model->parameters(), 5.0);
      adam.step();
    });
    double flops = training_flops(cfg.model, V, B, L, L + 1);
    std::cout << "device " << device.str() << ", " << threads << " threads\n"
              << "GEMM " << o->gemm << "^3 fp32: " << gemm_rate / 1e9 << " GFLOP/s\n"
              << "model: " << cfg.model.enc_layers << "+" << cfg.model.dec_layers << " layers x " << cfg.model.hidden_size
              << ", vocab " << V << ", " << model->parameter_count() << " parameters\n"
              << "batch: " << B << " sentences x " << L << "+" << L + 1 << " tokens\n"
              << "training step: " << step_s * 1e3 << " ms (median of " << o->steps << "), "
              << static_cast<double>(B * (L + 1)) / step_s << " target tokens/s\n"
              << "model FLOPs per step: " << flops / 1e9 << " GFLOP, achieved " << flops / step_s / 1e9 << " GFLOP/s\n"
              << "MFU (vs the measured GEMM rate): " << 100.0 * flops / step_s / gemm_rate << " %\n";
    *exit_code = 0;
  });
}

}  // namespace gnmt
