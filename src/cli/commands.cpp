#include "cli/commands.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "common/device.h"
#include "common/error.h"
#include "common/fs.h"
#include "config/config.h"
#include "eval/text_io.h"
#include "training/checkpoint.h"
#include "training/trainer.h"
#include "translator/translator.h"

namespace gnmt {
namespace fs = std::filesystem;

namespace {
// Runs `work`; an allocation that fails (c10::OutOfMemoryError from LibTorch on CPU or GPU, std::bad_alloc)
// becomes one line naming the batch size that asked for too much, instead of LibTorch's multi-line report.
template <class F>
void explain_out_of_memory(const std::string& batch, F&& work) {
  auto fail = [&](const std::string& why) {
    throw std::runtime_error("out of memory with " + batch + " (" + why + "); lower it and run again");
  };
  // LibTorch's CPU allocator reports failure through CAFFE_ENFORCE, which this build makes fatal (abort) unless
  // the flag is off; with it off the failure is a c10::Error like any other.
  FLAGS_caffe2_use_fatal_for_enforce = false;
  try {
    work();
  } catch (const c10::OutOfMemoryError& e) {
    std::string why = e.what_without_backtrace();
    fail(why.substr(0, why.find('\n')));
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    why = why.substr(0, why.find('\n'));
    if (why.find("can't allocate memory") == std::string::npos && why.find("not enough memory") == std::string::npos) throw;
    fail(why.substr(why.find("DefaultCPUAllocator") == std::string::npos ? 0 : why.find("DefaultCPUAllocator")));
  } catch (const std::bad_alloc&) {
    fail("std::bad_alloc");
  }
}
}  // namespace

void add_train_command(CLI::App& app, int* exit_code) {
  struct Opts { std::string config; std::vector<std::string> set; bool resume = false, dump = false, exact = false; };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("train", "Train a model from a YAML config (see configs/*.yaml)");
  cmd->add_option("-c,--config", o->config, "YAML config file")->required();
  cmd->add_option("--set", o->set, "Override a config key: --set section.key=value (repeatable), e.g. --set training.lr=0.001");
  cmd->add_flag("--resume", o->resume, "Continue the run in run_dir from its last checkpoint (last.pt)");
  cmd->add_flag("--dump-config", o->dump, "Print the resolved config (defaults, file and --set merged) and exit");
  auto* exact = cmd->add_flag("--exact-losses", o->exact, "Log losses with 17 decimals (to compare runs bit for bit)");
  cmd->get_option("--dump-config")->excludes(cmd->get_option("--resume"))->excludes(exact);  // dump trains nothing
  cmd->callback([o, exit_code] {
    Config cfg = load_config(o->config, o->set);
    if (o->dump) { std::cout << dump_config(cfg); *exit_code = 0; return; }
    explain_out_of_memory("training.batch_tokens=" + std::to_string(cfg.training.batch_tokens),
                          [&] { *exit_code = train(TrainArgs{cfg, o->resume, o->exact}); });
  });
}

void add_translate_command(CLI::App& app, int* exit_code) {
  struct Opts {
    std::string checkpoint, input, output, device = "";
    int64_t beam = -1, batch_size = -1, threads = 0;
    bool ema = false;
    double alpha = -1, beta = -1, max_len_ratio = -1;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("translate", "Translate a text file (one sentence per line) with a checkpoint");
  cmd->add_option("-m,--checkpoint", o->checkpoint, "Checkpoint file (e.g. runs/x/best.pt)")->required();
  cmd->add_option("-i,--input", o->input, "Input file (default: standard input)");
  cmd->add_option("-o,--output", o->output, "Output file, written atomically (default: standard output)");
  cmd->add_option("--beam", o->beam, "Beam size; 1 = greedy (default: the checkpoint's decoding.beam)");
  cmd->add_option("--alpha", o->alpha, "Length normalisation exponent alpha in ((5+|Y|)/6)^alpha (default: decoding.alpha)");
  cmd->add_option("--beta", o->beta, "Coverage penalty weight beta (default: decoding.beta)");
  cmd->add_option("--max-len-ratio", o->max_len_ratio, "Output limit: ratio * source tokens + 10 (default: decoding.max_len_ratio)");
  cmd->add_option("--batch-size", o->batch_size, "Sentences per batch (default: decoding.batch_size)");
  cmd->add_option("--device", o->device, "auto | cpu | cuda | cuda:N (default: the checkpoint's device)");
  cmd->add_option("--threads", o->threads, "CPU threads (0 = all cores)");
  cmd->add_flag("--ema", o->ema, "Translate with the checkpoint's exponential moving average of the weights "
                                 "(training.ema_decay > 0)");
  cmd->callback([o, exit_code] {
    if (!o->output.empty() && !o->input.empty()) {
      std::error_code ec;
      if (fs::exists(o->output) && fs::equivalent(o->input, o->output, ec))
        throw Error("--output " + o->output + " is the input file; choose another path");
    }
    if (!o->output.empty() && fs::is_directory(o->output)) throw Error("--output " + o->output + ": is a directory");
    if (o->beam != -1 && o->beam < 1) throw Error("--beam " + std::to_string(o->beam) + ": must be at least 1 (1 = greedy)");
    if (o->alpha != -1 && o->alpha < 0) throw Error("--alpha: must be >= 0");
    if (o->beta != -1 && o->beta < 0) throw Error("--beta: must be >= 0");
    if (o->max_len_ratio != -1 && !(o->max_len_ratio > 0)) throw Error("--max-len-ratio: must be positive");
    if (o->batch_size != -1 && o->batch_size < 1) throw Error("--batch-size: must be at least 1");
    if (o->threads < 0) throw Error("--threads: must be >= 0 (0 = all cores)");
    configure_threads(o->threads);
    auto ck = load_checkpoint(o->checkpoint, torch::Device(torch::kCPU));
    DecodingOptions d = ck.config.decoding;
    if (o->beam != -1) d.beam = o->beam;
    if (o->alpha != -1) d.alpha = o->alpha;
    if (o->beta != -1) d.beta = o->beta;
    if (o->max_len_ratio != -1) d.max_len_ratio = o->max_len_ratio;
    if (o->batch_size != -1) d.batch_size = o->batch_size;
    Config check = ck.config;
    check.decoding = d;
    if (!o->device.empty()) check.device = o->device;
    validate(check);  // names the flag's key when a value is out of range
    torch::Device device = resolve_device(check.device);
    std::vector<std::string> lines = o->input.empty() ? read_text_lines(std::cin, "<stdin>") : read_text_lines(o->input);
    if (o->ema) {
      if (ck.ema.empty()) throw Error("--ema: checkpoint " + o->checkpoint + " holds no EMA weights (trained with training.ema_decay: 0)");
      torch::NoGradGuard no_grad;
      for (auto& p : ck.model->named_parameters()) p.value().copy_(ck.ema.at(p.key()));
    }
    ck.model->to(device);
    Translator translator(ck.model, ck.tokenizer, d, device, ck.config.data.max_len);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> out;
    explain_out_of_memory("--batch-size " + std::to_string(d.batch_size) + " and --beam " + std::to_string(d.beam),
                          [&] { out = translator.translate(lines); });
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string text;
    for (const auto& l : out) text += l + "\n";
    if (o->output.empty()) {
      std::cout << text << std::flush;
      if (!std::cout) throw Error("cannot write translations to standard output");
    } else {
      write_file_atomically(o->output, text);
    }
    spdlog::info("translated {} line(s) in {:.1f} s ({:.1f} lines/s, beam {})", lines.size(), dt, lines.size() / std::max(dt, 1e-9), d.beam);
    *exit_code = 0;
  });
}

void add_info_command(CLI::App& app, int* exit_code) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("info", "Print a checkpoint's config, step, validation history and size");
  cmd->add_option("checkpoint", *path, "Checkpoint file")->required();
  cmd->callback([path, exit_code] {
    auto ck = load_checkpoint(*path, torch::Device(torch::kCPU));
    std::cout << "checkpoint: " << *path << "\nstep: " << ck.state.step << "\nepoch: " << ck.state.epoch + 1
              << "\ntraining time (s): " << ck.state.train_seconds << "\nparameters: " << ck.model->parameter_count()
              << "\nfile size (bytes): " << fs::file_size(*path)
              << "\nvocabulary: " << ck.tokenizer.vocab_size() << "\nformat: " << ck.format << (ck.format >= 2 ? " (checksum verified)" : " (no checksum)")
              << "\nEMA weights: " << (ck.ema.empty() ? "no" : "yes") << "\nbest valid BLEU: " << ck.state.best_valid_bleu
              << "\nbest valid xent: " << ck.state.best_valid_xent
              << "\nvalidations since best: " << ck.state.validations_since_best
              << "\nbest checkpoints (step:score, best first): " << (ck.state.best_steps.empty() ? "none" : ck.state.best_steps)
              << "\nprocesses (last step): " << ck.state.world_size
              << (ck.config.training.precision == "fp16" ? "\nfp16 loss scale: " + std::to_string(ck.state.loss_scale) : std::string())
              << "\nvalidation history:\n" << ck.state.history
              << "config:\n" << dump_config(ck.config);
    *exit_code = 0;
  });
}

}  // namespace gnmt
