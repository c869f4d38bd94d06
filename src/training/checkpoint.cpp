#include "training/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>
#include <sstream>

#include "common/error.h"
#include "common/fs.h"

namespace gnmt {
namespace {

std::string first_line(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  require_readable_file(path, "checkpoint");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw Error("checkpoint " + path + ": not a readable gnmt checkpoint (truncated or damaged?): " + first_line(e.what()));
  }
  return archive;
}

std::string read_string(torch::serialize::InputArchive& a, const std::string& key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isString()) throw Error("checkpoint " + path + ": missing '" + key + "' (not a gnmt checkpoint?)");
  return v.toStringRef();
}

// The default CPU generator drives dropout and initialisation; saving it makes resumed runs exact.
torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

void save_checkpoint(const std::string& path, GnmtModel& model, torch::optim::Optimizer* optimizer,
                     const Config& config, const Tokenizer& tokenizer, const TrainingState& s) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive weights;
  model->save(weights);
  archive.write("model", weights);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  archive.write("gnmt.format", c10::IValue(kCheckpointFormat));
  archive.write("gnmt.config", c10::IValue(dump_config(config)));
  archive.write("gnmt.tokenizer", c10::IValue(tokenizer.serialized()));
  archive.write("gnmt.step", c10::IValue(s.step));
  archive.write("gnmt.epoch", c10::IValue(s.epoch));
  archive.write("gnmt.batch_in_epoch", c10::IValue(s.batch_in_epoch));
  archive.write("gnmt.train_seconds", c10::IValue(s.train_seconds));
  archive.write("gnmt.best_valid_bleu", c10::IValue(s.best_valid_bleu));
  archive.write("gnmt.history", c10::IValue(s.history));
  archive.write("gnmt.rng", cpu_rng_state(), /*is_buffer=*/true);
  write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

Checkpoint load_checkpoint(const std::string& path, const torch::Device& device) {
  auto archive = open_archive(path);
  c10::IValue format;
  if (!archive.try_read("gnmt.format", format) || !format.isInt())
    throw Error("checkpoint " + path + ": no format version (not a gnmt checkpoint?)");
  if (format.toInt() != kCheckpointFormat)
    throw Error("checkpoint " + path + ": format version " + std::to_string(format.toInt()) + ", this gnmt reads " +
                std::to_string(kCheckpointFormat));
  Checkpoint ck{parse_config(read_string(archive, "gnmt.config", path), path + " (stored config)"),
                Tokenizer::from_serialized(read_string(archive, "gnmt.tokenizer", path), path + " (stored tokenizer)"),
                {}, nullptr, path};
  auto read_int = [&](const char* key) { c10::IValue v; archive.try_read(key, v); return v.isInt() ? v.toInt() : 0; };
  auto read_double = [&](const char* key, double def) { c10::IValue v; archive.try_read(key, v); return v.isDouble() ? v.toDouble() : def; };
  ck.state.step = read_int("gnmt.step");
  ck.state.epoch = read_int("gnmt.epoch");
  ck.state.batch_in_epoch = read_int("gnmt.batch_in_epoch");
  ck.state.train_seconds = read_double("gnmt.train_seconds", 0);
  ck.state.best_valid_bleu = read_double("gnmt.best_valid_bleu", -1);
  ck.state.history = read_string(archive, "gnmt.history", path);
  ck.model = GnmtModel(ck.config.model, ck.tokenizer.vocab_size());
  try {
    torch::serialize::InputArchive weights;
    if (!archive.try_read("model", weights)) throw Error("no weights");
    ck.model->load(weights);
  } catch (const std::exception& e) {
    throw Error("checkpoint " + path + ": weights do not match the model its config describes: " + first_line(e.what()));
  }
  ck.model->to(device);
  return ck;
}

void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive opt;
  if (!archive.try_read("optimizer", opt)) throw Error("checkpoint " + path + ": no optimizer state to resume from");
  try {
    optimizer.load(opt);
  } catch (const std::exception& e) {
    throw Error("checkpoint " + path + ": optimizer state does not fit this model: " + first_line(e.what()));
  }
  torch::Tensor rng;
  if (archive.try_read("gnmt.rng", rng, /*is_buffer=*/true)) set_cpu_rng_state(rng);
}

}  // namespace gnmt
